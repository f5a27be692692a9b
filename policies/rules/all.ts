// The policies of plone-guard, in the order reports list them. index.ts serves exactly this list;
// tests import it (and the rule modules) instead of index.ts, which starts a gRPC server.
import type { Policies, PolicyPackArgs } from "@pulumi/policy";
import { instanceTypesAllowed } from "./cost";
import { dataVolumesSurviveTermination, rdsBackupRetention, rdsDeletionSafety, rdsMultiAz, statefulResourcesProtected, storageEncrypted } from "./durability";
import {
    albHttpRedirectsToHttps,
    albTlsPolicy,
    imdsv2Required,
    ingressWorldWebOnly,
    internalPortsFromGroups,
    rdsNotPublic,
    siteServedOverTls,
    sshFromAdminSources,
} from "./exposure";
import { noCredentialsInInputs, remoteCommandSecretLogging } from "./secrets";
import { glusterfsPeers, singleInstanceLayers } from "./singleInstance";
import { scaledGroupsStateless } from "./scaling";
import { dlmCoversSnapshotTags, dlmCrossRegionCopy, dlmRetention, ebsVolumeSnapshotTag } from "./snapshots";
import { requiredTags } from "./tagging";
import { backupBucketsProtected } from "./backups";
import { albAccessLogs, backupBucketAccessLogging, loadBalancerWaf } from "./edge";
import { mailTlsOnly } from "./mail";

export const PACK_NAME = "plone-guard";

export const ploneGuardPolicies: Policies = [
    singleInstanceLayers,
    glusterfsPeers,
    scaledGroupsStateless,
    ebsVolumeSnapshotTag,
    dlmCoversSnapshotTags,
    dlmRetention,
    dlmCrossRegionCopy,
    backupBucketsProtected,
    backupBucketAccessLogging,
    dataVolumesSurviveTermination,
    storageEncrypted,
    rdsMultiAz,
    rdsBackupRetention,
    rdsDeletionSafety,
    statefulResourcesProtected,
    ingressWorldWebOnly,
    sshFromAdminSources,
    internalPortsFromGroups,
    rdsNotPublic,
    imdsv2Required,
    albTlsPolicy,
    albHttpRedirectsToHttps,
    siteServedOverTls,
    albAccessLogs,
    loadBalancerWaf,
    mailTlsOnly,
    noCredentialsInInputs,
    remoteCommandSecretLogging,
    requiredTags,
    instanceTypesAllowed,
];

export const packArgs: PolicyPackArgs = {
    displayName: "plone-guard: policies of plone-aws stacks",
    description:
        "One ZEO server (and Solr, Redis, celerybeat, packer, NFS server), snapshotted and encrypted data, a durable RelStorage database, only the web open to the internet, no keys in the state, tagged resources.",
    // Policies without a level of their own would be advisory; every policy here sets one.
    enforcementLevel: "advisory",
    policies: ploneGuardPolicies,
};
