// The cost guard: instance types and database classes from the stack's allowed list.
import { expect } from "chai";
import { instanceTypesAllowed } from "../../policies/rules/cost";
import { TYPES } from "../../policies/rules/common";
import { runResourcePolicy } from "../helpers/policyArgs";

describe("policy instance-types-allowed", () => {
    it("passes types and classes of the default list, and of a stack's own list", async () => {
        for (const instanceType of ["t3.large", "c6i.xlarge", "r6i.large"]) {
            expect(await runResourcePolicy(instanceTypesAllowed, TYPES.instance, { instanceType }), instanceType).to.deep.equal([]);
        }
        expect(await runResourcePolicy(instanceTypesAllowed, TYPES.rdsInstance, { instanceClass: "db.m6g.large" })).to.deep.equal([]);
        expect(
            await runResourcePolicy(
                instanceTypesAllowed,
                TYPES.instance,
                { instanceType: "x2idn.32xlarge" },
                { config: { allowedInstanceTypes: ["x2idn.*"] } },
            ),
        ).to.deep.equal([]);
    });

    it("fires on a type outside the list, naming the host resource and the setting", async () => {
        const [v] = await runResourcePolicy(
            instanceTypesAllowed,
            TYPES.instance,
            { instanceType: "c6i.24xlarge" },
            { name: "prod-app-1-instance", config: { allowedInstanceTypes: ["c6i.large", "c6i.xlarge"] } },
        );
        expect(v.message).to.equal(
            "prod-app-1-instance is a c6i.24xlarge, which this stack's policy config does not allow (instance types: c6i.large, c6i.xlarge): pick an allowed one in plone-aws:hosts (instanceType), or widen instance-types-allowed in the stack's policy config after a cost review.",
        );
        const [db] = await runResourcePolicy(instanceTypesAllowed, TYPES.rdsInstance, { instanceClass: "db.r6g.16xlarge" }, { name: "prod-db-instance" });
        expect(db.message).to.include("prod-db-instance is a db.r6g.16xlarge").and.include("plone-aws:database.instanceClass");
    });
});
