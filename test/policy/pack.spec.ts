// The pack as a whole (its policies, its per-stack configs, its Pulumi project) and the CLI's
// handling of policy config that the offline check reimplements.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { PACK_NAME, packArgs, ploneGuardPolicies } from "../../policies/rules/all";
import { JsonSchema, PolicyInfo, readPolicyConfigFile, reconcilePolicyConfig, validateValue } from "../../scripts/lib/plan/policyConfig";
import { defaultPolicyConfigFile, exitCodeFor, POLICY_PACK_DIR, toWireValue } from "../../scripts/lib/plan/policyCheck";

function infos(): PolicyInfo[] {
    return ploneGuardPolicies.map((p: ResourceValidationPolicy | StackValidationPolicy) => ({
        name: p.name,
        description: p.description,
        enforcementLevel: p.enforcementLevel ?? "advisory",
        configSchema: p.configSchema && { properties: p.configSchema.properties as Record<string, JsonSchema>, required: p.configSchema.required },
    }));
}

describe("the plone-guard pack", () => {
    it("is a Pulumi policy project of its own: PulumiPolicy.yaml (nodejs), package.json with a version and its dependencies", () => {
        expect(YAML.parse(fs.readFileSync(path.join(POLICY_PACK_DIR, "PulumiPolicy.yaml"), "utf8")).runtime).to.equal("nodejs");
        const pkg = JSON.parse(fs.readFileSync(path.join(POLICY_PACK_DIR, "package.json"), "utf8"));
        expect(pkg).to.include({ name: PACK_NAME, main: "index.ts" });
        expect(pkg.version).to.match(/^\d+\.\d+\.\d+$/);
        expect(Object.keys(pkg.dependencies)).to.include.members(["@pulumi/policy", "@pulumi/pulumi", "@pulumi/aws"]);
        expect(pkg.dependencies["@pulumi/pulumi"]).to.equal("3.248.0");
    });

    it("serves the rules from index.ts and nothing else", () => {
        const code = fs
            .readFileSync(path.join(POLICY_PACK_DIR, "index.ts"), "utf8")
            .split("\n")
            .filter((l) => l.trim() && !l.startsWith("//"));
        expect(code).to.deep.equal([
            'import { PolicyPack } from "@pulumi/policy";',
            'import { PACK_NAME, packArgs } from "./rules/all";',
            "new PolicyPack(PACK_NAME, packArgs);",
        ]);
    });

    it("has valid, unique policy names that the server accepts, each with a description and a level", () => {
        expect(PACK_NAME).to.match(/^[a-zA-Z0-9-_.]{1,100}$/);
        const names = ploneGuardPolicies.map((p) => p.name);
        expect(new Set(names).size).to.equal(names.length);
        expect(names).to.not.include("all");
        expect(packArgs.policies).to.equal(ploneGuardPolicies);
        for (const p of ploneGuardPolicies) {
            expect(p.name, p.name).to.match(/^[a-z0-9]+(-[a-z0-9]+)*$/);
            expect(p.description.length, p.name).to.be.greaterThan(30);
            expect(p.enforcementLevel, p.name).to.be.oneOf(["advisory", "mandatory"]);
            expect(Object.keys(p.configSchema?.properties ?? {}), p.name).to.not.include("enforcementLevel");
        }
    });

    it("gives every setting a default that its own schema accepts", () => {
        for (const p of infos()) {
            for (const [key, schema] of Object.entries(p.configSchema?.properties ?? {})) {
                expect(schema.default, `${p.name}.${key}`).to.not.equal(undefined);
                expect(validateValue(schema.default, schema, `${p.name}.${key}`)).to.deep.equal([]);
            }
        }
    });

    it("has a valid policy config per stack: prod all mandatory but the cost guard, dev advisory but the security rules", () => {
        const levels = (file: string) => {
            const { config, errors } = readPolicyConfigFile(path.join(POLICY_PACK_DIR, file));
            expect(errors).to.deep.equal([]);
            const reconciled = reconcilePolicyConfig(infos(), config, file);
            expect(reconciled.errors, file).to.deep.equal([]);
            return Object.fromEntries(Object.entries(reconciled.config).map(([k, v]) => [k, v.enforcementLevel]));
        };
        const prod = levels("config.prod.json");
        expect(Object.entries(prod).filter(([, l]) => l !== "mandatory")).to.deep.equal([
            ["load-balancer-waf", "advisory"],
            ["instance-types-allowed", "advisory"],
        ]);
        expect(prod["alb-access-logs"]).to.equal("mandatory");
        expect(prod["backup-bucket-access-logging"]).to.equal("mandatory");
        const staging = levels("config.staging.json");
        expect(staging["rds-multi-az"]).to.equal("advisory");
        expect(staging["ssh-from-admin-sources"]).to.equal("mandatory");
        const dev = levels("config.dev.json");
        for (const p of [
            "single-instance-layers",
            "ingress-world-web-only",
            "ssh-from-admin-sources",
            "no-credentials-in-inputs",
            "remote-command-secret-logging",
        ])
            expect(dev[p], p).to.equal("mandatory");
        expect(dev["dlm-cross-region-copy"]).to.equal("advisory");
        expect(dev["stateful-resources-protected"]).to.equal("disabled");
    });

    it("picks a stack's policy config by name, else by tier", () => {
        expect(defaultPolicyConfigFile("prod", "production")).to.equal(path.join(POLICY_PACK_DIR, "config.prod.json"));
        expect(defaultPolicyConfigFile("staging-2", "staging")).to.equal(path.join(POLICY_PACK_DIR, "config.staging.json"));
        expect(defaultPolicyConfigFile("dev", "production")).to.equal(path.join(POLICY_PACK_DIR, "config.dev.json"));
        expect(defaultPolicyConfigFile("customer-a", "production")).to.equal(path.join(POLICY_PACK_DIR, "config.prod.json"));
    });
});

describe("policy config reconciliation (what the CLI does with --policy-pack-config)", () => {
    const policies: PolicyInfo[] = [
        { name: "a", description: "a", enforcementLevel: "mandatory" },
        {
            name: "b",
            description: "b",
            enforcementLevel: "advisory",
            configSchema: {
                properties: { min: { type: "integer", minimum: 1, default: 15 }, names: { type: "array", items: { type: "string" }, default: ["x"] } },
            },
        },
    ];

    it("starts from each policy's level and schema defaults", () => {
        const { config, errors } = reconcilePolicyConfig(policies, undefined);
        expect(errors).to.deep.equal([]);
        expect(config).to.deep.equal({
            a: { enforcementLevel: "mandatory", properties: {} },
            b: { enforcementLevel: "advisory", properties: { min: 15, names: ["x"] } },
        });
    });

    it("applies all first, then each policy's level and settings", () => {
        const { config } = reconcilePolicyConfig(policies, { all: "disabled", b: { enforcementLevel: "mandatory", min: 3 } });
        expect(config.a.enforcementLevel).to.equal("disabled");
        expect(config.b).to.deep.equal({ enforcementLevel: "mandatory", properties: { min: 3, names: ["x"] } });
    });

    it("refuses bad levels, bad values, unknown policies and unknown settings, naming each", () => {
        const { errors } = reconcilePolicyConfig(
            policies,
            { all: "strict", a: "manditory", b: { min: "15", names: [1], mni: 2 }, c: "advisory" },
            "config.prod.json",
        );
        expect(errors).to.deep.equal([
            'config.prod.json: all: "strict" is not an enforcement level (advisory, mandatory, remediate, disabled)',
            'config.prod.json: a: "manditory" is not an enforcement level (advisory, mandatory, remediate, disabled)',
            "config.prod.json: b.mni is not a setting of this policy (its settings: min, names)",
            'config.prod.json: "c" is not a policy of the pack (its policies: a, b)',
            'config.prod.json: b.min: must be an integer, not "15"',
            "config.prod.json: b.names[0]: must be a string, not 1",
        ]);
    });
});

describe("the offline check's wire format and exit codes", () => {
    it("marshals properties as the engine does: secrets stay wrapped, undefined goes, resource references become ids", () => {
        const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "s3cret" };
        const reference = {
            "4dabf18193072939515e22adb298388d": "5cf8f73096256a8f31e491e813e4eb8e",
            urn: "urn:pulumi:prod::plone-aws::aws:ec2/vpc:Vpc::prod-network-vpc",
            id: "vpc-1",
        };
        expect(toWireValue({ password: secret, vpc: reference, skip: undefined, list: [1, undefined, "a"] })).to.deep.equal({
            password: secret,
            vpc: "vpc-1",
            list: [1, null, "a"],
        });
    });

    it("exits 1 on an invalid policy config, 2 on a mandatory violation, 0 on advisory ones only", () => {
        const violation = (level: "advisory" | "mandatory") => ({ policy: "p", level, description: "d", message: "m" });
        expect(exitCodeFor({ configErrors: ["bad"], violations: [violation("mandatory")] })).to.equal(1);
        expect(exitCodeFor({ configErrors: [], violations: [violation("advisory"), violation("mandatory")] })).to.equal(2);
        expect(exitCodeFor({ configErrors: [], violations: [violation("advisory")] })).to.equal(0);
        expect(exitCodeFor({ configErrors: [], violations: [] })).to.equal(0);
    });
});
