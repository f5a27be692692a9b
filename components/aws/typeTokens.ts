// The type tokens of plone-aws's components (plone-aws:<module>:<Name>): each component registers
// under its token, and the policy pack reads them (resource URNs carry their parents' types). No
// imports: the pack loads this without @pulumi/aws.
export const COMPONENT_TYPES = {
    stack: "plone-aws:stack:PloneStack",
    network: "plone-aws:network:Network",
    hostRole: "plone-aws:iam:HostRole",
    host: "plone-aws:host:Host",
    bastion: "plone-aws:host:Bastion",
    frontDoor: "plone-aws:frontdoor:FrontDoor",
    database: "plone-aws:database:Database",
    blobFileSystem: "plone-aws:storage:BlobFileSystem",
    snapshots: "plone-aws:snapshots:Snapshots",
    offsiteBackups: "plone-aws:backups:OffsiteBackups",
    accessLogBucket: "plone-aws:logs:AccessLogBucket",
    webFirewall: "plone-aws:waf:WebFirewall",
    monitoring: "plone-aws:monitoring:Monitoring",
    mail: "plone-aws:mail:Mail",
    provisioner: "plone-aws:provision:Provisioner",
    scaledGroups: "plone-aws:scaling:ScaledGroups",
    scaledGroup: "plone-aws:scaling:ScaledGroup",
    groupImage: "plone-aws:scaling:GroupImage",
} as const;
