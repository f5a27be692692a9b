// Outbound mail of a production stack over TLS only: the SES configuration set requires TLS.
import { expect } from "chai";
import { MAIL_TYPES, mailTlsOnly } from "../../policies/rules/mail";
import { runResourcePolicy, UNKNOWN } from "../helpers/policyArgs";

describe("policy mail-tls-only", () => {
    const run = (props: Record<string, unknown>) => runResourcePolicy(mailTlsOnly, MAIL_TYPES.configurationSet, props, { name: "prod-mail-configuration-set" });

    it("passes a configuration set that requires TLS, and one whose policy is not known yet", async () => {
        expect(await run({ configurationSetName: "plone-aws-prod", deliveryOptions: { tlsPolicy: "REQUIRE" } })).to.deep.equal([]);
        expect(await run({ configurationSetName: "plone-aws-prod", deliveryOptions: { tlsPolicy: UNKNOWN } })).to.deep.equal([]);
    });

    it("fires on OPTIONAL delivery and on a configuration set without delivery options", async () => {
        const [optional] = await run({ configurationSetName: "plone-aws-prod", deliveryOptions: { tlsPolicy: "OPTIONAL" } });
        expect(optional.message).to.equal(
            "prod-mail-configuration-set lets SES deliver mail without TLS (tlsPolicy OPTIONAL): Plone's password resets would cross the internet in clear to a server that does not offer TLS. " +
                "Keep plone-aws:mail.requireTlsDelivery true (the default in production).",
        );
        const [unset] = await run({ configurationSetName: "plone-aws-prod" });
        expect(unset.message).to.include("(tlsPolicy unset, OPTIONAL)");
    });
});
