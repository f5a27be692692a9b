// Durability of the site's data: the ZODB, the blobs and the RelStorage database outlive the
// hosts, are encrypted, and the database is replicated, backed up and hard to delete by accident.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import { forType, known, TYPES } from "./common";

type InstanceProps = Unwrap<aws.ec2.InstanceArgs>;
type LaunchTemplateProps = Unwrap<aws.ec2.LaunchTemplateArgs>;
type VolumeProps = Unwrap<aws.ebs.VolumeArgs>;
type RdsProps = Unwrap<aws.rds.InstanceArgs>;
type EfsProps = Unwrap<aws.efs.FileSystemArgs>;

/** Block devices declared inline on an instance; unknown entries during preview are left out. */
function ebsBlockDevices(instance: InstanceProps): NonNullable<InstanceProps["ebsBlockDevices"]> {
    const devices = known(() => instance.ebsBlockDevices);
    return Array.isArray(devices) ? devices : [];
}

export const dataVolumesSurviveTermination: ResourceValidationPolicy = {
    name: "data-volumes-survive-termination",
    description: "Data lives on separate EBS volumes attached to the hosts, never on inline block devices deleted with the instance.",
    enforcementLevel: "mandatory",
    validateResource: forType<InstanceProps>(TYPES.instance, (instance, args, reportViolation) => {
        for (const device of ebsBlockDevices(instance)) {
            // AWS deletes inline block devices with the instance unless told otherwise.
            if (known(() => device.deleteOnTermination) !== false) {
                reportViolation(
                    `${args.name} declares the block device ${known(() => device.deviceName) ?? "(unnamed)"} inline with deleteOnTermination, so replacing or terminating the host destroys its data. ` +
                        `Put the data on an aws.ebs.Volume attached with an aws.ec2.VolumeAttachment (what the Host component does for every data volume).`,
                );
            }
        }
    }),
};

export const storageEncrypted: ResourceValidationPolicy = {
    name: "storage-encrypted",
    description: "EBS root and data volumes, RDS storage and EFS file systems are encrypted at rest.",
    enforcementLevel: "mandatory",
    validateResource: [
        forType<InstanceProps>(TYPES.instance, (instance, args, reportViolation) => {
            const root = known(() => instance.rootBlockDevice);
            if (known(() => root?.encrypted) !== true) {
                reportViolation(`${args.name}: its root volume is not encrypted: set rootBlockDevice.encrypted to true (the Host component does).`);
            }
            for (const device of ebsBlockDevices(instance)) {
                if (known(() => device.encrypted) !== true) {
                    reportViolation(`${args.name}: block device ${known(() => device.deviceName) ?? "(unnamed)"} is not encrypted: set encrypted: true.`);
                }
            }
        }),
        forType<LaunchTemplateProps>(TYPES.launchTemplate, (template, args, reportViolation) => {
            const mappings = known(() => template.blockDeviceMappings) ?? [];
            for (const mapping of mappings) {
                const ebs = known(() => mapping.ebs);
                if (ebs && String(known(() => ebs.encrypted)) !== "true") {
                    reportViolation(
                        `${args.name}: block device ${known(() => mapping.deviceName) ?? "(unnamed)"} is not encrypted: set ebs.encrypted to "true".`,
                    );
                }
            }
        }),
        forType<VolumeProps>(TYPES.volume, (volume, args, reportViolation) => {
            if (known(() => volume.encrypted) !== true)
                reportViolation(`${args.name} is not encrypted: set encrypted: true (a volume cannot be encrypted after it is created).`);
        }),
        forType<RdsProps>(TYPES.rdsInstance, (db, args, reportViolation) => {
            // A read replica inherits its source's encryption.
            if (known(() => db.replicateSourceDb)) return;
            if (known(() => db.storageEncrypted) !== true)
                reportViolation(
                    `${args.name}: the database storage is not encrypted: set storageEncrypted: true (only possible when the instance is created).`,
                );
        }),
        forType<EfsProps>(TYPES.efsFileSystem, (fs, args, reportViolation) => {
            if (known(() => fs.encrypted) !== true)
                reportViolation(`${args.name}: the blob file system is not encrypted: set encrypted: true (only possible when it is created).`);
        }),
    ],
};

export const rdsMultiAz: ResourceValidationPolicy = {
    name: "rds-multi-az",
    description: "The RelStorage database runs Multi-AZ, so the failure of one database host or AZ does not stop the site.",
    enforcementLevel: "mandatory",
    validateResource: forType<RdsProps>(TYPES.rdsInstance, (db, args, reportViolation) => {
        if (known(() => db.replicateSourceDb)) return;
        if (known(() => db.multiAz) !== true) {
            reportViolation(
                `${args.name} is a single-AZ database: a failure of its host stops the site until AWS replaces it. Set plone-aws:database.multiAz to true.`,
            );
        }
    }),
};

export const rdsBackupRetention: ResourceValidationPolicy = {
    name: "rds-backup-retention",
    description: "RDS keeps automated backups (point-in-time recovery) for at least the configured number of days (7 by default).",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            minDays: { type: "integer", minimum: 1, maximum: 35, default: 7, description: "The fewest days of automated RDS backups." },
        },
    },
    validateResource: forType<RdsProps>(TYPES.rdsInstance, (db, args, reportViolation) => {
        if (known(() => db.replicateSourceDb)) return;
        const { minDays } = args.getConfig<{ minDays: number }>();
        const days = known(() => db.backupRetentionPeriod);
        if (typeof days !== "number" || days < minDays) {
            reportViolation(
                `${args.name} keeps ${typeof days === "number" ? `${days} day${days === 1 ? "" : "s"}` : "the AWS default of 1 day"} of backups, fewer than the ${minDays} this stack requires: ` +
                    `set plone-aws:database.backupRetentionDays to ${minDays} or more.`,
            );
        }
    }),
};

export const rdsDeletionSafety: ResourceValidationPolicy = {
    name: "rds-deletion-safety",
    description:
        "The RelStorage database has deletion protection and takes a final snapshot (skipFinalSnapshot false and a finalSnapshotIdentifier) when it is deleted.",
    enforcementLevel: "mandatory",
    validateResource: forType<RdsProps>(TYPES.rdsInstance, (db, args, reportViolation) => {
        if (known(() => db.deletionProtection) !== true) {
            reportViolation(`${args.name} has no deletion protection: set plone-aws:database.deletionProtection to true (the default in production).`);
        }
        const identifier = known(() => db.finalSnapshotIdentifier);
        if (known(() => db.skipFinalSnapshot) !== false || !identifier) {
            reportViolation(
                `${args.name} would be deleted without a final snapshot (skipFinalSnapshot false and a finalSnapshotIdentifier are needed): ` +
                    `set plone-aws:database.finalSnapshot to true (the default in production).`,
            );
        }
    }),
};

export const statefulResourcesProtected: ResourceValidationPolicy = {
    name: "stateful-resources-protected",
    description:
        "Data volumes, the RDS instance and the EFS file system have Pulumi's protect option, so `pulumi destroy` or a replacement cannot delete them.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (![TYPES.volume, TYPES.rdsInstance, TYPES.efsFileSystem].some((t) => t === args.type)) return;
        if (!args.opts.protect) {
            reportViolation(
                `${args.name} is not protected: a \`pulumi destroy\` or a replacement would delete the site's data. The components protect it when plone-aws:tier is production.`,
            );
        }
    },
};
