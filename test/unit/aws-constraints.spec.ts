// The AWS API constraints the offline check uses: generated from botocore's service models, and
// usable in JavaScript.
import { expect } from "chai";
import * as fs from "fs";
import { API_CONSTRAINTS_FILE, BOTOCORE_DATA_DIR, generateApiConstraints, renderApiConstraints } from "../../scripts/lib/awsCheck/generate";
import { API_CONSTRAINTS, apiProblem, modelPattern, valuesAt } from "../../scripts/lib/awsCheck";
import { API_FIELDS } from "../../scripts/lib/awsCheck/apiFields";
import { publicKeyProblem } from "../../components/config/sshKeys";

describe("AWS API constraints (api-constraints.json)", () => {
    it("is what the generator makes of the installed botocore models (npm run gen:aws-constraints)", function () {
        if (!fs.existsSync(BOTOCORE_DATA_DIR)) {
            console.log(
                `      skipped: no botocore models in ${BOTOCORE_DATA_DIR} (apt-get install python3-botocore) to regenerate ${API_CONSTRAINTS_FILE} from`,
            );
            this.skip();
        }
        const generated = generateApiConstraints(BOTOCORE_DATA_DIR);
        if (generated.botocore !== API_CONSTRAINTS.botocore) {
            console.log(`      skipped: botocore ${generated.botocore} is installed, the file was generated from ${API_CONSTRAINTS.botocore}`);
            this.skip();
        }
        expect(fs.readFileSync(API_CONSTRAINTS_FILE, "utf8")).to.equal(renderApiConstraints(generated));
    });

    it("holds one constraint per mapped input, each with something to check", () => {
        expect(API_CONSTRAINTS.constraints.map((c) => `${c.type} ${c.input}`)).to.deep.equal(API_FIELDS.map((f) => `${f.type} ${f.input}`));
        for (const c of API_CONSTRAINTS.constraints)
            expect(c.min !== undefined || c.max !== undefined || c.pattern !== undefined || c.enum !== undefined, c.api).to.equal(true);
    });

    it("compiles every model pattern as a JavaScript expression over the whole value", () => {
        for (const c of API_CONSTRAINTS.constraints.filter((x) => x.pattern)) expect(() => modelPattern(c.pattern!), c.api).not.to.throw();
        const description = API_CONSTRAINTS.constraints.find((c) => c.api === "dlm CreateLifecyclePolicy:Description")!;
        expect(description).to.include({ max: 500, pattern: "[0-9A-Za-z _-]+" });
        expect(apiProblem(description, "plone-aws prod daily data volume snapshots")).to.equal(undefined);
        expect(apiProblem(description, "plone-aws prod: daily data volume snapshots")).to.equal("does not match [0-9A-Za-z _-]+");
        // Java's \p{all} and lookaheads: DLM tag keys may not start with aws:.
        const dlmTagKey = API_CONSTRAINTS.constraints.find((c) => c.api === "dlm CreateLifecyclePolicy:Tags{key}")!;
        expect(apiProblem(dlmTagKey, "plone-aws:stack")).to.equal(undefined);
        expect(apiProblem(dlmTagKey, "aws:stack")).to.match(/does not match/);
        const port = API_CONSTRAINTS.constraints.find((c) => c.api === "elbv2 CreateTargetGroup:Port")!;
        expect([apiProblem(port, 80), apiProblem(port, 0), apiProblem(port, 70000)]).to.deep.equal([
            undefined,
            "is 0, at least 1 is needed",
            "is 70000, at most 65535 is allowed",
        ]);
    });

    it("reads inputs by path: nested, list elements, map keys and values", () => {
        const inputs = { policyDetails: { schedules: [{ name: "a" }, { name: "b" }], targetTags: { k: "v" } }, tags: { Name: "x" } };
        expect(valuesAt(inputs, "policyDetails.schedules[].name")).to.deep.equal([
            { path: "policyDetails.schedules[0].name", value: "a" },
            { path: "policyDetails.schedules[1].name", value: "b" },
        ]);
        expect(valuesAt(inputs, "policyDetails.targetTags{key}")).to.deep.equal([{ path: 'policyDetails.targetTags["k"]', value: "k" }]);
        expect(valuesAt(inputs, "tags{value}")).to.deep.equal([{ path: 'tags["Name"]', value: "x" }]);
        expect(valuesAt(inputs, "missing.path[]")).to.deep.equal([]);
    });
});

describe("OpenSSH public keys (what EC2 ImportKeyPair takes)", () => {
    // Real keys made with ssh-keygen (ed25519, 3072-bit RSA, nistp384).
    const ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN9rpheVNJmb4oyZghajV13/LJ3x4t0uU/Up28Zbyjam op@host";
    const RSA =
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQDAKm/rtwiCrFmRhObzMb7oi9irsGYE3/6EUYRC2zdxq4OZl4wgTV262XD4x/uRIB6CH5e/IAcxikMR44H6e5k1VnGTLtf/+eZWnPAtw1kk/uRkKkkm2uDa5v40AW2bclJiPnQQ7thI2Zoj8vmuGCCkZHQ7s4zq5YX7j32OlkYTY21gWq1FYCTh/9XbNjruV0F15eT2+SWhcH5pTd+K8dE9mOe/5gduYojJVTN0qEUOxZ3jf/Pt1+Qf59Me9h2raZdibCVAMp8D5I0yCRaoN0ZiCOdDjd3JfRaEPxhFjYXtAmeBcPuZV3oD+XIPSk2aGubu7y1YKyDpA9UIvONLBmanKLe5tbbBeVrXz9HkP+a1UWE21dm/A8PFB9JVmbgR1qEQdhtnckEVCqc1slKLXpQWmpcfnHuDRvdGftZOFP0WZN/QH4aPEdr3sdcuKcNyGbmNy8TUwOTfdDpKox24Qthmn2+Af+OJAtWqWV85O8TWT32Z0iXEcSf8c0G1OT9O0MU= op@host";
    const ECDSA =
        "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBEDpKZnmnzFRtH1/6weNdk2JLJsK7kytu5mgJAHi5q7L4i7jKgR0zs1ZtD8R9ADbvCJG/wT1wiuLCtD+o/pwZdsQ0CK8oOk0D9et4bxieo8sUswrH9JBdGDlPRUBqubr3A== op@host";

    it("accepts well-formed ed25519, RSA and ECDSA keys", () => {
        expect([ED25519, RSA, ECDSA].map(publicKeyProblem)).to.deep.equal([undefined, undefined, undefined]);
    });

    it("refuses the stack files' example key, truncated keys, a type that lies and a point off the curve", () => {
        expect(publicKeyProblem("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMPLACEHOLDERKEYREPLACEWITHYOURS0000000000 plone-dev")).to.match(
            /example key of the stack file/,
        );
        expect(publicKeyProblem("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample test")).to.match(/not a complete ed25519 key/);
        expect(publicKeyProblem(`ssh-rsa ${ED25519.split(" ")[1]}`)).to.equal("says ssh-rsa but its data is a ssh-ed25519 key");
        // y = 2 is not the y of any point of edwards25519.
        const offCurve = Buffer.concat([
            Buffer.from([0, 0, 0, 11]),
            Buffer.from("ssh-ed25519"),
            Buffer.from([0, 0, 0, 32]),
            Buffer.from([2, ...new Array(31).fill(0)]),
        ]);
        expect(publicKeyProblem(`ssh-ed25519 ${offCurve.toString("base64")}`)).to.match(/not a point of the curve/);
    });
});
