// Durability: data outlives the hosts, storage is encrypted, the RelStorage database is
// replicated, backed up, protected and snapshotted on delete.
import { expect } from "chai";
import {
    dataVolumesSurviveTermination,
    rdsBackupRetention,
    rdsDeletionSafety,
    rdsMultiAz,
    statefulResourcesProtected,
    storageEncrypted,
} from "../../policies/rules/durability";
import { TYPES } from "../../policies/rules/common";
import { runResourcePolicy } from "../helpers/policyArgs";

const instance = {
    instanceType: "c6i.large",
    metadataOptions: { httpTokens: "required" },
    rootBlockDevice: { encrypted: true, volumeType: "gp3", deleteOnTermination: true },
};

const database = {
    engine: "postgres",
    instanceClass: "db.m6g.large",
    storageEncrypted: true,
    multiAz: true,
    backupRetentionPeriod: 14,
    deletionProtection: true,
    skipFinalSnapshot: false,
    finalSnapshotIdentifier: "prod-db-final",
    publiclyAccessible: false,
};

describe("policy data-volumes-survive-termination", () => {
    it("passes an instance whose data is on separate volumes (or an inline device kept on termination)", async () => {
        expect(await runResourcePolicy(dataVolumesSurviveTermination, TYPES.instance, instance)).to.deep.equal([]);
        const kept = { ...instance, ebsBlockDevices: [{ deviceName: "/dev/sdf", deleteOnTermination: false, encrypted: true }] };
        expect(await runResourcePolicy(dataVolumesSurviveTermination, TYPES.instance, kept)).to.deep.equal([]);
    });

    it("fires on inline block devices deleted with the instance (explicitly, or by AWS's default)", async () => {
        const props = { ...instance, ebsBlockDevices: [{ deviceName: "/dev/sdf", deleteOnTermination: true }, { deviceName: "/dev/sdg" }] };
        const violations = await runResourcePolicy(dataVolumesSurviveTermination, TYPES.instance, props, { name: "prod-zeo-1-instance" });
        expect(violations).to.have.length(2);
        expect(violations[0].message).to.include("prod-zeo-1-instance declares the block device /dev/sdf inline with deleteOnTermination");
        expect(violations[1].message).to.include("/dev/sdg").and.include("aws.ebs.Volume attached with an aws.ec2.VolumeAttachment");
    });
});

describe("policy storage-encrypted", () => {
    it("passes encrypted roots, volumes, databases, file systems and launch templates", async () => {
        expect(
            await runResourcePolicy(storageEncrypted, TYPES.instance, {
                ...instance,
                ebsBlockDevices: [{ deviceName: "/dev/sdf", encrypted: true, deleteOnTermination: false }],
            }),
        ).to.deep.equal([]);
        expect(await runResourcePolicy(storageEncrypted, TYPES.volume, { size: 20, encrypted: true })).to.deep.equal([]);
        expect(await runResourcePolicy(storageEncrypted, TYPES.rdsInstance, database)).to.deep.equal([]);
        expect(await runResourcePolicy(storageEncrypted, TYPES.efsFileSystem, { encrypted: true })).to.deep.equal([]);
        expect(
            await runResourcePolicy(storageEncrypted, TYPES.launchTemplate, { blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "true" } }] }),
        ).to.deep.equal([]);
    });

    it("fires on each unencrypted one, naming it", async () => {
        const root = await runResourcePolicy(
            storageEncrypted,
            TYPES.instance,
            { ...instance, rootBlockDevice: { volumeType: "gp3" } },
            { name: "prod-web-1-instance" },
        );
        expect(root[0].message).to.equal(
            "prod-web-1-instance: its root volume is not encrypted: set rootBlockDevice.encrypted to true (the Host component does).",
        );
        expect((await runResourcePolicy(storageEncrypted, TYPES.volume, { size: 20 }, { name: "v" }))[0].message).to.include("v is not encrypted");
        expect((await runResourcePolicy(storageEncrypted, TYPES.rdsInstance, { ...database, storageEncrypted: false }, { name: "db" }))[0].message).to.include(
            "db: the database storage is not encrypted",
        );
        expect((await runResourcePolicy(storageEncrypted, TYPES.efsFileSystem, {}, { name: "fs" }))[0].message).to.include(
            "fs: the blob file system is not encrypted",
        );
        expect(
            (
                await runResourcePolicy(
                    storageEncrypted,
                    TYPES.launchTemplate,
                    { blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "false" } }] },
                    { name: "lt" },
                )
            )[0].message,
        ).to.include("lt: block device /dev/xvda is not encrypted");
    });
});

describe("policy rds-multi-az", () => {
    it("passes a Multi-AZ database (and a read replica, which follows its source)", async () => {
        expect(await runResourcePolicy(rdsMultiAz, TYPES.rdsInstance, database)).to.deep.equal([]);
        expect(await runResourcePolicy(rdsMultiAz, TYPES.rdsInstance, { replicateSourceDb: "prod-db", multiAz: false })).to.deep.equal([]);
    });

    it("fires on a single-AZ database", async () => {
        const [v] = await runResourcePolicy(rdsMultiAz, TYPES.rdsInstance, { ...database, multiAz: false }, { name: "prod-db-instance" });
        expect(v.message).to.equal(
            "prod-db-instance is a single-AZ database: a failure of its host stops the site until AWS replaces it. Set plone-aws:database.multiAz to true.",
        );
    });
});

describe("policy rds-backup-retention", () => {
    it("passes 7 days and more", async () => {
        expect(await runResourcePolicy(rdsBackupRetention, TYPES.rdsInstance, { ...database, backupRetentionPeriod: 7 })).to.deep.equal([]);
    });

    it("fires below the minimum, or without a retention (the AWS default is 1 day)", async () => {
        const [short] = await runResourcePolicy(rdsBackupRetention, TYPES.rdsInstance, { ...database, backupRetentionPeriod: 3 }, { name: "db" });
        expect(short.message).to.equal(
            "db keeps 3 days of backups, fewer than the 7 this stack requires: set plone-aws:database.backupRetentionDays to 7 or more.",
        );
        const [unset] = await runResourcePolicy(
            rdsBackupRetention,
            TYPES.rdsInstance,
            { ...database, backupRetentionPeriod: undefined },
            { name: "db", config: { minDays: 14 } },
        );
        expect(unset.message).to.include("the AWS default of 1 day of backups, fewer than the 14");
    });
});

describe("policy rds-deletion-safety", () => {
    it("passes deletion protection with a final snapshot", async () => {
        expect(await runResourcePolicy(rdsDeletionSafety, TYPES.rdsInstance, database)).to.deep.equal([]);
    });

    it("fires without deletion protection, and without a final snapshot identifier", async () => {
        const violations = await runResourcePolicy(
            rdsDeletionSafety,
            TYPES.rdsInstance,
            { ...database, deletionProtection: false, skipFinalSnapshot: true, finalSnapshotIdentifier: undefined },
            { name: "staging-db-instance" },
        );
        expect(violations.map((v) => v.message)).to.deep.equal([
            "staging-db-instance has no deletion protection: set plone-aws:database.deletionProtection to true (the default in production).",
            "staging-db-instance would be deleted without a final snapshot (skipFinalSnapshot false and a finalSnapshotIdentifier are needed): set plone-aws:database.finalSnapshot to true (the default in production).",
        ]);
    });
});

describe("policy stateful-resources-protected", () => {
    it("passes protected volumes, databases and file systems, and ignores other types", async () => {
        expect(await runResourcePolicy(statefulResourcesProtected, TYPES.volume, { size: 20 }, { protect: true })).to.deep.equal([]);
        expect(await runResourcePolicy(statefulResourcesProtected, TYPES.instance, instance)).to.deep.equal([]);
    });

    it("fires on an unprotected data volume", async () => {
        const [v] = await runResourcePolicy(statefulResourcesProtected, TYPES.volume, { size: 20 }, { name: "prod-zeo-1-filestorage" });
        expect(v.message).to.include("prod-zeo-1-filestorage is not protected: a `pulumi destroy` or a replacement would delete the site's data");
    });
});
