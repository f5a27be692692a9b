// The baked image of a scaled group (plone-aws:scaling.groups[].bakedImage): Debian 12 with every
// package its instances' setup installs, made once per package list by EC2 Image Builder, so a new
// instance skips apt at boot (on Debian's own AMI, apt is most of the time from launch to serving:
// the build tools and headers a buildout needs). Pure: the GroupImage component stores the
// component document; the rehearsal runs the same script to make its cached image layer.
import * as crypto from "crypto";
import { Document, parse, type Scalar } from "yaml";
import type { HostPlan } from "../../topology";
import type { RenderContext } from "../context";
import { PACKAGES_LOGIC, setupPackages } from "../host/system";
import { scriptHeader, shellArray, shellQuote } from "../scriptKit";

/** What an image holds beyond the setup's packages: the boot script's aws command (Debian's awscli). */
const IMAGE_EXTRA_PACKAGES = ["awscli"];

/** The packages a group's image holds: those its instances' setup would install, and the boot's aws CLI. */
export function imagePackages(ctx: RenderContext, host: HostPlan): string[] {
    return [...new Set([...setupPackages(ctx, host), ...IMAGE_EXTRA_PACKAGES])].sort();
}

/**
 * plone-image-packages: the image recipe's one build step. The same package logic as the setup
 * (PACKAGES_LOGIC), so the setup of an instance of this image finds every package and does nothing.
 */
export function renderImageScript(ctx: RenderContext, host: HostPlan, group: string): string {
    return `${scriptHeader(
        "plone-image-packages",
        [
            `the packages of the scaled group ${group}'s instances, baked into its image (EC2 Image`,
            "Builder runs this on a Debian 12 instance; the instances' setup then finds every package and skips apt).",
        ],
        [],
    )}
[ "$(id -u)" -eq 0 ] || die "run as root"
PACKAGES=${shellArray(imagePackages(ctx, host))}
${PACKAGES_LOGIC}
# What apt downloaded is not part of the image.
apt-get clean
finish
`;
}

/**
 * The image's identity: a hash of its build script. Image Builder's components and recipes are
 * immutable per name and version, so a changed package list is a new version (x.y.z, each at most
 * 2^30 - 1: seven hex digits fit).
 */
export function imageVersion(script: string): string {
    const hash = crypto.createHash("sha256").update(script).digest("hex");
    return `1.0.${parseInt(hash.slice(0, 7), 16)}`;
}

/** The Image Builder component document (YAML, AWSTOE's schema 1.0) that runs the script. */
export function renderImageComponent(script: string, group: string): string {
    const doc = new Document({
        name: `plone-aws-${group}-packages`,
        description: `plone-aws: the packages of the scaled group ${group}'s instances`,
        schemaVersion: 1.0,
        phases: [{ name: "build", steps: [{ name: "InstallPackages", action: "ExecuteBash", inputs: { commands: [script] } }] }],
    });
    // AWSTOE's documents say "schemaVersion: 1.0", not 1.
    (doc.get("schemaVersion", true) as Scalar).minFractionDigits = 1;
    return doc.toString({ lineWidth: 0 });
}

/** The script of a component document: what the rehearsal runs, exactly as Image Builder would. */
export function imageComponentScript(document: string): string {
    const doc = parse(document) as { phases?: { steps?: { inputs?: { commands?: unknown[] } }[] }[] };
    const command = doc.phases?.[0]?.steps?.[0]?.inputs?.commands?.[0];
    if (typeof command !== "string") throw new Error("the image component has no build command");
    return command;
}

/**
 * The user data of Image Builder's build instance. Image Builder drives the build through the SSM
 * agent, which Debian's AMI does not have: installed from Amazon's regional bucket (Amazon's
 * documented way for Debian), and uninstalled after the build (the recipe says so).
 */
export function renderImageBuildUserData(region: string): string {
    return `#!/bin/bash
# plone-aws: the SSM agent for EC2 Image Builder's build instance (Debian's AMI has none).
set -euo pipefail
arch=$(dpkg --print-architecture)
curl -fsSL --retry 5 -o /tmp/amazon-ssm-agent.deb ${shellQuote(`https://s3.${region}.amazonaws.com/amazon-ssm-${region}/latest/`)}"debian_$arch/amazon-ssm-agent.deb"
dpkg -i /tmp/amazon-ssm-agent.deb
systemctl enable --now amazon-ssm-agent
`;
}
