// npm ci refuses a lock file that omits an optional dependency of a locked package, even one for
// another platform. The registry this project is developed against serves only the Linux builds of
// some packages (@swc/core's), so `npm install` here can write such a lock file: catch it in
// `npm test`, before CI's `npm ci` refuses it.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";

interface LockedPackage {
    version?: string;
    optionalDependencies?: Record<string, string>;
}

describe("package-lock.json", () => {
    it("lists every optional dependency of every locked package, for every platform (npm ci needs them)", () => {
        const lock = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package-lock.json"), "utf8")) as { packages: Record<string, LockedPackage> };
        const missing: string[] = [];
        for (const [location, pkg] of Object.entries(lock.packages)) {
            for (const dep of Object.keys(pkg.optionalDependencies ?? {})) {
                // npm resolves a dependency in the package's own node_modules first, then up the tree.
                const candidates: string[] = [];
                let dir = location;
                for (;;) {
                    candidates.push(dir ? `${dir}/node_modules/${dep}` : `node_modules/${dep}`);
                    const up = dir.lastIndexOf("/node_modules/");
                    if (!dir) break;
                    dir = up < 0 ? "" : dir.slice(0, up);
                }
                if (!candidates.some((c) => c in lock.packages)) missing.push(`${dep} (optional dependency of ${location || "the project"})`);
            }
        }
        expect(missing, "add them to package-lock.json with their version, os and cpu (see the lock's other entries)").to.deep.equal([]);
    });
});
