// The baked image of a scaled group (plone-aws:scaling.groups[].bakedImage): EC2 Image Builder
// makes an AMI from Debian's with every package the group's instances install (the component
// document of render/scaling/image.ts), at `pulumi up`, once per package list. The launch template
// boots from it, so a new instance skips apt.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { fittedName } from "./names";
import { COMPONENT_TYPES } from "./typeTokens";

/** IAM's limit on a role's name. */
const IAM_ROLE_NAME_MAX = 64;

/** Debian's AMIs name their root device so (the group's launch template uses the same). */
export const ROOT_DEVICE = "/dev/xvda";

/** AWS's managed policies a build instance of Image Builder needs (its SSM agent, its log). */
const BUILD_INSTANCE_POLICIES = ["arn:aws:iam::aws:policy/EC2InstanceProfileForImageBuilder", "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"] as const;

export interface GroupImageArgs {
    /** The name the image's Image Builder resources get (the group's name in AWS, <stack prefix>-<group>). */
    imageName: string;
    /** The Image Builder component document that installs the packages (renderImageComponent). */
    componentDocument: string;
    /** The version of the component and the recipe (imageVersion): a new one for every new document or volume size. */
    version: string;
    /** Debian 12's AMI for the group's architecture: what the image is built on. */
    parentImage: pulumi.Input<string>;
    /** The user data that gives the build instance the SSM agent (renderImageBuildUserData). */
    buildUserData: string;
    /** GiB of the image's root volume (the group's rootVolumeSize). */
    rootVolumeSize: number;
    /** The build instance's type (the group's first). */
    instanceType: string;
    /** Where the build instance runs: a subnet of the group, with a way to Debian's mirrors and SSM. */
    subnetId: pulumi.Input<string>;
    /** The build instance's security groups (the group's: they allow what apt needs). */
    securityGroupIds: pulumi.Input<string>[];
    tags: Record<string, string>;
}

/**
 * An AMI with a scaled group's packages, made by EC2 Image Builder: a component (the packages
 * script), a recipe (Debian's AMI, the component, an encrypted root volume), an infrastructure
 * configuration (the build instance: its role, type, subnet, IMDSv2) and the image itself, which
 * `pulumi up` waits for. Its `amiId` is what the group's launch template boots.
 */
export class GroupImage extends pulumi.ComponentResource {
    public readonly image: aws.imagebuilder.Image;
    /** The AMI Image Builder made. */
    public readonly amiId: pulumi.Output<string>;

    constructor(name: string, args: GroupImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.groupImage, name, { imageName: args.imageName, version: args.version }, opts);
        const parent = { parent: this };
        const tags = args.tags;

        const role = new aws.iam.Role(
            `${name}-builder`,
            {
                // IAM's 64 characters: a long stack or group name gets a shorter name.
                name: fittedName(`${name}-builder`, IAM_ROLE_NAME_MAX, args.imageName, "image", [args.imageName]),
                description: `plone-aws: the build instance of ${args.imageName}'s image (EC2 Image Builder)`,
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
                }),
                tags,
            },
            parent,
        );
        BUILD_INSTANCE_POLICIES.forEach(
            (policyArn, i) => new aws.iam.RolePolicyAttachment(`${name}-builder-${i === 0 ? "imagebuilder" : "ssm"}`, { role: role.name, policyArn }, parent),
        );
        const profile = new aws.iam.InstanceProfile(`${name}-builder`, { role: role.name, tags }, parent);

        const component = new aws.imagebuilder.Component(
            `${name}-packages`,
            {
                name: `${args.imageName}-packages`,
                version: args.version,
                platform: "Linux",
                description: `plone-aws: the packages of ${args.imageName}'s instances`,
                data: args.componentDocument,
                tags,
            },
            parent,
        );
        const recipe = new aws.imagebuilder.ImageRecipe(
            `${name}-recipe`,
            {
                name: args.imageName,
                version: args.version,
                description: `plone-aws: Debian 12 with the packages of ${args.imageName}'s instances`,
                parentImage: args.parentImage,
                components: [{ componentArn: component.arn }],
                blockDeviceMappings: [
                    { deviceName: ROOT_DEVICE, ebs: { volumeSize: args.rootVolumeSize, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } },
                ],
                userDataBase64: Buffer.from(args.buildUserData, "utf8").toString("base64"),
                systemsManagerAgent: { uninstallAfterBuild: true },
                tags,
            },
            // Like the fixed hosts (host.ts), a newer Debian AMI alone does not rebuild: unattended
            // upgrades keep the instances current; a new package list rebuilds on the AMI of then.
            { parent: this, ignoreChanges: ["parentImage"] },
        );
        const infrastructure = new aws.imagebuilder.InfrastructureConfiguration(
            `${name}-infrastructure`,
            {
                name: args.imageName,
                description: `plone-aws: the build instance of ${args.imageName}'s image`,
                instanceProfileName: profile.name,
                instanceTypes: [args.instanceType],
                subnetId: args.subnetId,
                securityGroupIds: args.securityGroupIds,
                instanceMetadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
                terminateInstanceOnFailure: true,
                tags,
            },
            parent,
        );
        this.image = new aws.imagebuilder.Image(
            `${name}-image`,
            {
                imageRecipeArn: recipe.arn,
                infrastructureConfigurationArn: infrastructure.arn,
                // The recipe's one component is the test: a build that fails to install a package fails the image.
                imageTestsConfiguration: { imageTestsEnabled: false },
                tags,
            },
            parent,
        );
        this.amiId = this.image.outputResources.apply((resources) => {
            const ami = resources[0]?.amis[0]?.image;
            if (!ami) throw new Error(`${args.imageName}: EC2 Image Builder made no AMI (see the image's log in the Image Builder console)`);
            return ami;
        });
        this.registerOutputs({ amiId: this.amiId });
    }
}
