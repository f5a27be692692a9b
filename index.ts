// plone-aws: Plone on AWS. The configuration lives in Pulumi.<stack>.yaml; see README.md.
import { ploneProgram } from "./components/program";

const outputs = ploneProgram();

export const siteUrl = outputs.siteUrl;
export const frontDoorAddress = outputs.frontDoorAddress;
export const hostPrivateIps = outputs.hostPrivateIps;
export const databaseEndpoint = outputs.databaseEndpoint;
export const bastionAddress = outputs.bastionAddress;
export const sshAddresses = outputs.sshAddresses;
export const backupBucket = outputs.backupBucket;
export const alarmTopicArn = outputs.alarmTopicArn;
