// Physical names of AWS resources. Pulumi names a resource after its logical name plus "-" and 7
// random characters (pulumi-terraform-bridge pkg/tfbridge/names.go, FromName), and refuses when
// that is longer than the field allows (pulumi-aws provider/resources.go: aws_lb_target_group
// "name" at most 32). Where a stack's name can make the auto-name too long, a shorter name is
// given instead: the logical name cut to fit, and a hash of the inputs that force a replacement,
// so a replacement (created before the old one is deleted) never collides with the old name.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";

/** What Pulumi appends to a logical name: "-" and 7 random characters. */
export const AUTONAME_SUFFIX_LENGTH = 8;

const HASH_LENGTH = 8;

/** A short, stable hash of a text, for names. */
export function shortHash(text: string, length = HASH_LENGTH): string {
    return crypto.createHash("sha256").update(text).digest("hex").slice(0, length);
}

/**
 * The name AWS gets when the auto-name would be longer than maxLength (undefined when it fits):
 * the start of the stack's prefix, what the resource is (`role`), and the hash.
 */
export function fittedName(
    logicalName: string,
    maxLength: number,
    stackPrefix: string,
    role: string,
    replaceInputs: pulumi.Input<string | number | boolean>[],
): pulumi.Output<string> | undefined {
    if (logicalName.length + AUTONAME_SUFFIX_LENGTH <= maxLength) return undefined;
    const base = stackPrefix.slice(0, maxLength - role.length - HASH_LENGTH - 2).replace(/-+$/, "");
    return pulumi.all(replaceInputs).apply((values) => `${base}-${role}-${shortHash(values.map(String).join("\0"))}`);
}
