// A provider for another region that deploys the way the stack's default provider does: the same
// profile, assumed role, default tags and account guards from the stack's aws:* configuration.
// A bare `new aws.Provider({ region })` takes none of them (the replica would be created with the
// ambient credentials, in whatever account they reach, without the default tags).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** aws:* keys copied as they are (strings) or parsed (lists, objects, numbers, flags). */
const PLAIN_KEYS = ["profile", "retryMode", "stsRegion", "customCaBundle", "httpProxy", "httpsProxy", "noProxy", "tagPolicyCompliance"] as const;
const STRUCTURED_KEYS = [
    "assumeRoles",
    "assumeRoleWithWebIdentity",
    "defaultTags",
    "ignoreTags",
    "allowedAccountIds",
    "forbiddenAccountIds",
    "sharedConfigFiles",
    "sharedCredentialsFiles",
    "maxRetries",
    "skipCredentialsValidation",
    "skipMetadataApiCheck",
    "skipRequestingAccountId",
] as const;
/** Credentials in the stack configuration: passed on as secrets, never in plain text in the state. */
const SECRET_KEYS = ["accessKey", "secretKey", "token"] as const;

/** The provider arguments the stack's default provider has, for a provider in another region. */
export function inheritedProviderArgs(region: string): aws.ProviderArgs {
    const config = new pulumi.Config("aws");
    const args: Record<string, unknown> = { region };
    for (const key of PLAIN_KEYS) {
        const value = config.get(key);
        if (value !== undefined) args[key] = value;
    }
    for (const key of STRUCTURED_KEYS) {
        const value = config.getObject<unknown>(key);
        if (value !== undefined) args[key] = value;
    }
    for (const key of SECRET_KEYS) {
        const value = config.getSecret(key);
        if (value !== undefined) args[key] = value;
    }
    return args as aws.ProviderArgs;
}

/** A provider for `region` with the stack's credentials, role and default tags. */
export function regionalProvider(name: string, region: string, opts: pulumi.CustomResourceOptions): aws.Provider {
    return new aws.Provider(name, inheritedProviderArgs(region), opts);
}
