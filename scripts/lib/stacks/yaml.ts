// Writing stack files with the yaml Document API, in the style of the repository's own stack
// files: no line folding, short lists of names on one line, comments above the keys they explain.
import YAML, { isMap, isScalar, Pair, YAMLMap } from "yaml";

export const STRINGIFY = { lineWidth: 0, flowCollectionPadding: false } as const;

/**
 * Lists of plain values (layers, packages) on one line, as `[frontend, plone_instances]`; times
 * such as "03:00" quoted, as YAML 1.1 readers would take them for base-60 numbers.
 */
export function flowScalarLists(node: YAML.Node): YAML.Node {
    YAML.visit(node, {
        Seq: (_, seq) => {
            if (seq.items.every((i) => isScalar(i))) seq.flow = true;
        },
        Scalar: (_, scalar) => {
            if (typeof scalar.value === "string" && /^\d+(:\d+)+$/.test(scalar.value)) scalar.type = "QUOTE_DOUBLE";
        },
    });
    return node;
}

export function pairOf(map: YAMLMap, key: string): Pair | undefined {
    return map.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key);
}

/** A comment line above a key, after any comment already there. */
export function commentAbove(map: YAMLMap, key: string, text: string): void {
    const pair = pairOf(map, key);
    if (!pair || !isScalar(pair.key)) return;
    const lines = text
        .split("\n")
        .map((l) => ` ${l}`)
        .join("\n");
    pair.key.commentBefore = pair.key.commentBefore ? `${pair.key.commentBefore}\n${lines}` : lines;
}

/** The mapping at a path of keys below `map`, if there is one. */
export function mapAt(map: YAMLMap, path: readonly string[]): YAMLMap | undefined {
    let node: unknown = map;
    for (const key of path) {
        node = isMap(node) ? node.get(key, true) : undefined;
    }
    return isMap(node) ? node : undefined;
}
