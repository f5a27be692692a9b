import { expect } from "chai";
import * as fs from "fs";
import { ATTRIBUTES_DOC, attributesDocument } from "../../scripts/docs-attributes";
import { ATTRIBUTES } from "../../scripts/lib/opsworks/attributes";

describe("docs/opsworks-attributes.md", () => {
    it("is generated from the importer's table (run npm run docs:attributes after changing it)", () => {
        expect(fs.readFileSync(ATTRIBUTES_DOC, "utf8")).to.equal(attributesDocument());
    });

    it("accounts for every one of the cookbook's 217 attributes", () => {
        const rows = new Set(ATTRIBUTES.map((a) => a.row).filter((r): r is number => r !== null));
        const missing = Array.from({ length: 217 }, (_, i) => i + 1).filter((r) => !rows.has(r));
        expect(missing).to.deep.equal([]);
    });
});
