// The bundle and the secret files of a scaled group's host: its steps rendered once with the
// secrets masked (the bundle, stored in S3), and its secret files rendered with the real secrets
// (stored in SSM, each under its own parameter names, which the bundle lists). Pure.
import * as crypto from "crypto";
import type { HostPlan, ScaledGroupPlan } from "../../topology";
import type { RenderContext } from "../context";
import { hostFiles, scaledHostSteps } from "../hostSteps";
import {
    parameterPrefix,
    renderBundle,
    renderDrainScript,
    renderWatchScript,
    secretFileParameters,
    secretFilesList,
    stagedSecretFile,
    type SecretFileParameters,
} from "./instance";

/**
 * The address a scaled host's files give the host itself: every address, since it is only known
 * once the instance runs (the haproxy agent binds to it; the security group admits the front ends).
 */
export const SCALED_SELF_ADDRESS = "0.0.0.0";

/** A scaled group as the renderers see it: its plan and the host its instances are. */
export interface ScaledGroup {
    plan: ScaledGroupPlan;
    host: HostPlan;
}

/** The context a scaled host renders with: the stack's, plus its own (unknown) address. */
export function scaledContext(ctx: RenderContext, group: ScaledGroup): RenderContext {
    return { ...ctx, addresses: { ...ctx.addresses, [group.host.name]: SCALED_SELF_ADDRESS } };
}

/** The bundle of a group (from a context whose secrets are masked) and its hash. */
export function renderScaledBundle(masked: RenderContext, group: ScaledGroup): { content: string; sha256: string } {
    const ctx = scaledContext(masked, group);
    const steps = scaledHostSteps(ctx, group.host, stagedSecretFile);
    const names = secretFileParameters(parameterPrefix(ctx.spec.stackName, group.plan.name), hostFiles(ctx, group.host));
    const content = renderBundle({
        "setup.sh": steps.setup,
        "configure.sh": steps.configure,
        "build.sh": steps.build,
        "activate.sh": steps.activate,
        "drain.sh": renderDrainScript(),
        "watch.sh": renderWatchScript(),
        "secret-files.list": secretFilesList(names),
    });
    return { content, sha256: crypto.createHash("sha256").update(content).digest("hex") };
}

/** The SSM parameters of a group's secret files, from a context with the real secrets. */
export function scaledSecretParameters(real: RenderContext, group: ScaledGroup): SecretFileParameters[] {
    const ctx = scaledContext(real, group);
    return secretFileParameters(parameterPrefix(ctx.spec.stackName, group.plan.name), hostFiles(ctx, group.host));
}
