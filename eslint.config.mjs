// ESLint (flat config): typescript-eslint's recommended rules on the TypeScript sources, without
// type information so that `npm run lint` stays fast (tsc checks the types); formatting is
// prettier's (eslint-config-prettier turns off the rules it owns). `npm run lint` runs this and
// `prettier --check`.
import eslint from "@eslint/js";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/**", "policies/node_modules/**", "bin/**", ".rehearsal/**", "**/*.js", "**/*.mjs"] },
    eslint.configs.recommended,
    ...tseslint.configs.recommended,
    {
        rules: {
            // The input-safety code matches control characters on purpose (kinds, encoders, shell quoting).
            "no-control-regex": "off",
            // tsc reports unused locals and parameters (noUnusedLocals, noUnusedParameters): one checker.
            "@typescript-eslint/no-unused-vars": "off",
        },
    },
    {
        files: ["test/**/*.ts"],
        rules: {
            // Tests read the inputs the program registered, which are untyped.
            "@typescript-eslint/no-explicit-any": "off",
            // Tests match stack files, whose YAML indentation reads best as spaces.
            "no-regex-spaces": "off",
        },
    },
    prettier,
);
