// Property test of input safety: every string key of the schema (walked from the zod schemas, so a
// new key is covered the day it is added) gets hostile values: a line break with a directive after
// it, both quote kinds, $(...), backquotes, NUL, an --option, 100 kB, substitutions. For each value
// either the configuration is refused by that key's path (one line per error, no trace), or every
// file of every host of dev and prod (with every optional key set) keeps its shape (lines, haproxy
// servers, supervisor programs, VCL backends, nginx servers), the changed files pass their daemon's
// validator, and running every changed script with --help (and bash -n) creates no file. Raw keys
// may change only the files their daemon validates before they go live (nginx, buildout).
//
// The keys are shared out over three files so that they run side by side (test/helpers/hostileChecks.ts):
// this one has the app's, Plone's and the database's keys, and random strings at any key.
import fc from "fast-check";
import { describeHostileKeys, tryValue, withChecks } from "../helpers/hostileChecks";
import { stringLeaves } from "../helpers/schemaLeaves";

describeHostileKeys("app", () => {
    const leaves = stringLeaves();

    it("random strings of quoting, control and syntax characters (fast-check, fixed seed)", () => {
        const alphabet = [
            "a",
            "Z",
            "0",
            "/",
            ".",
            "-",
            "_",
            " ",
            "\n",
            "\r",
            "\t",
            "\u0000",
            "'",
            '"',
            "`",
            "$",
            "(",
            ")",
            "{",
            "}",
            "[",
            "]",
            ";",
            "&",
            "|",
            "<",
            ">",
            "#",
            "%",
            "\\",
            ":",
            "=",
            "*",
            "@",
            "\u2028",
        ];
        const hostile = fc.array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 24 }).map((cs) => cs.join(""));
        const oneLeaf = fc.constantFrom(...leaves);
        withChecks(() =>
            fc.assert(
                fc.property(oneLeaf, hostile, (leaf, value) => {
                    tryValue(leaf, value);
                }),
                { numRuns: 300, seed: 20261202 },
            ),
        );
    });
});
