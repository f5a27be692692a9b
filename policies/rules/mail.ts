// Outbound mail of a production stack travels over TLS only: the relay on each app host reaches
// SES over TLS (the configuration refuses mail.relay.tls none in production), and SES delivers to
// recipients' servers over TLS only, which is what the stack's SES configuration set says.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import { forType, isUnknown, known } from "./common";

type ConfigurationSetProps = Unwrap<aws.sesv2.ConfigurationSetArgs>;

export const MAIL_TYPES = { configurationSet: "aws:sesv2/configurationSet:ConfigurationSet" } as const;

export const mailTlsOnly: ResourceValidationPolicy = {
    name: "mail-tls-only",
    description:
        "The stack's SES configuration set delivers over TLS only (tlsPolicy REQUIRE), so a password reset or a notification never crosses the internet in clear.",
    enforcementLevel: "mandatory",
    validateResource: forType<ConfigurationSetProps>(MAIL_TYPES.configurationSet, (props, args, reportViolation) => {
        if (isUnknown(() => props.deliveryOptions?.tlsPolicy)) return;
        const policy = known(() => props.deliveryOptions?.tlsPolicy);
        if (policy === "REQUIRE") return;
        reportViolation(
            `${args.name} lets SES deliver mail without TLS (tlsPolicy ${policy ?? "unset, OPTIONAL"}): Plone's password resets would cross the internet in clear to a server that does not offer TLS. ` +
                "Keep plone-aws:mail.requireTlsDelivery true (the default in production).",
        );
    }),
};
