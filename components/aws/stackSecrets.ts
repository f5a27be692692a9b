// The stack's secret configuration values as the components get them: Pulumi secrets, never in the
// spec. program.ts reads them from the configuration; the database and the provisioning use them.
import type * as pulumi from "@pulumi/pulumi";
import type { SecretKey } from "../config/schema";

/** Secret configuration values, as Pulumi secrets; only those that are set. */
export type StackSecrets = Partial<Record<SecretKey, pulumi.Output<string>>> & {
    /** The app's secret environment (plone-aws:appSecrets), when it is set. */
    appSecrets?: pulumi.Output<Record<string, string>>;
};
