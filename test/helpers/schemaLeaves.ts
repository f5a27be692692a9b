// Every string leaf of the stack schema, found by walking the zod schemas: where it is (a path of
// object keys, array elements and record keys or values) and its declared kind. The property test
// puts hostile values into each; a test checks that every leaf has a kind.
import { Step, StringKey, stringKeys } from "../../components/config/stringKeys";

export type StringLeaf = StringKey;

/** Every string key of the schema (components/config/stringKeys.ts). */
export function stringLeaves(): StringLeaf[] {
    return stringKeys();
}

type Json = unknown;

/**
 * The value with the leaf replaced by `value`, or undefined when the value has nothing at that
 * place (an absent optional key, an empty list, another option of a union). The path of the
 * replaced leaf, as the configuration errors name it, comes along.
 */
export function withLeaf(section: Json, steps: Step[], value: string): { section: Json; keyPath: (string | number)[] } | undefined {
    const keyPath: (string | number)[] = [];
    const set = (node: Json, i: number): Json | undefined => {
        if (i === steps.length) return value;
        const step = steps[i];
        if ("key" in step) {
            if (!isObject(node) || !(step.key in node)) return undefined;
            keyPath.push(step.key);
            const inner = set(node[step.key], i + 1);
            return inner === undefined ? undefined : { ...node, [step.key]: inner };
        }
        if ("element" in step) {
            if (!Array.isArray(node) || node.length === 0) return undefined;
            keyPath.push(0);
            const inner = set(node[0], i + 1);
            return inner === undefined ? undefined : [inner, ...node.slice(1)];
        }
        if (!isObject(node) || Object.keys(node).length === 0) return undefined;
        const [first, ...rest] = Object.keys(node);
        if ("recordKey" in step) {
            if (i !== steps.length - 1) return undefined;
            keyPath.push(value);
            return Object.fromEntries([[value, node[first]], ...rest.map((k) => [k, node[k]])]);
        }
        keyPath.push(first);
        const inner = set(node[first], i + 1);
        return inner === undefined ? undefined : { ...node, [first]: inner };
    };
    const out = set(section, 0);
    return out === undefined ? undefined : { section: out, keyPath };
}

function isObject(v: Json): v is Record<string, Json> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}
