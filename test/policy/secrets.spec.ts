// Secrets: no AWS keys anywhere, private keys only in a remote command's connection or quiet stdin.
import { expect } from "chai";
import { noCredentialsInInputs, remoteCommandSecretLogging } from "../../policies/rules/secrets";
import { TYPES } from "../../policies/rules/common";
import { runResourcePolicy, UNKNOWN } from "../helpers/policyArgs";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
// AWS's documentation example key id: the shape of a real one, never valid.
const KEY_ID = "AKIAIOSFODNN7EXAMPLE";

describe("policy no-credentials-in-inputs", () => {
    it("passes a remote command holding its SSH key in the connection (and the bastion hop), and a key on quiet stdin", async () => {
        const props = {
            connection: { host: UNKNOWN, user: "admin", privateKey: KEY, proxy: { host: "198.51.100.10", user: "admin", privateKey: KEY } },
            create: "bash -s",
            stdin: `install -m 0600 /dev/stdin /etc/plone-aws/plone/deploy_key <<'EOF'\n${KEY}EOF\n`,
            logging: "none",
        };
        expect(await runResourcePolicy(noCredentialsInInputs, TYPES.remoteCommand, props)).to.deep.equal([]);
        expect(await runResourcePolicy(noCredentialsInInputs, TYPES.instance, { userData: "#!/bin/sh\necho hello", tags: { Name: "x" } })).to.deep.equal([]);
    });

    it("fires on a private key anywhere else: a command line, a component's inputs, stdin that is logged", async () => {
        const [line] = await runResourcePolicy(
            noCredentialsInInputs,
            TYPES.remoteCommand,
            { create: `echo '${KEY}' > key`, connection: { privateKey: KEY } },
            { name: "prod-app-1-deploy" },
        );
        expect(line.message).to.equal(
            'prod-app-1-deploy: input create holds a private key (-----BEGIN OPENSSH PRIVATE KEY-----). Keys reach the hosts only as a remote command\'s connection.privateKey or on the stdin of a command with logging "none", from a secret config value (pulumi config set --secret).',
        );
        const [component] = await runResourcePolicy(
            noCredentialsInInputs,
            "plone-aws:provision:Provisioner",
            { secrets: { deployKey: KEY } },
            { name: "prod-app-1" },
        );
        expect(component.message).to.include("prod-app-1: input secrets.deployKey holds a private key");
        const [logged] = await runResourcePolicy(noCredentialsInInputs, TYPES.remoteCommand, { stdin: KEY, logging: "stdoutAndStderr" }, { name: "c" });
        expect(logged.message).to.include("c: input stdin holds a private key");
    });

    it("fires on AWS access keys everywhere, also in a command's connection, masking the key id", async () => {
        const violations = await runResourcePolicy(
            noCredentialsInInputs,
            TYPES.remoteCommand,
            {
                environment: { AWS_ACCESS_KEY_ID: KEY_ID },
                stdin: "[default]\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
                logging: "none",
            },
            { name: "prod-app-1-backup" },
        );
        expect(violations.map((v) => v.message)).to.deep.equal([
            "prod-app-1-backup: input environment.AWS_ACCESS_KEY_ID holds an AWS access key id (AKIA…MPLE). plone-aws hosts get AWS access from their instance role and snapshots are taken by Data Lifecycle Manager: remove the key, and rotate it, because it is already in the stack's state and history.",
            "prod-app-1-backup: input stdin holds an AWS secret access key. plone-aws hosts get AWS access from their instance role and snapshots are taken by Data Lifecycle Manager: remove the key, and rotate it, because it is already in the stack's state and history.",
        ]);
    });

    it("finds key ids inside longer text such as user data", async () => {
        const [v] = await runResourcePolicy(
            noCredentialsInInputs,
            TYPES.instance,
            { userData: `#!/bin/sh\nexport AWS_ACCESS_KEY_ID=${KEY_ID}` },
            { name: "i" },
        );
        expect(v.message).to.include("i: input userData holds an AWS access key id (AKIA…MPLE)");
    });
});

describe("policy remote-command-secret-logging", () => {
    it("passes commands with stdin and logging none, and commands without stdin", async () => {
        expect(await runResourcePolicy(remoteCommandSecretLogging, TYPES.remoteCommand, { create: "bash -s", stdin: "secret", logging: "none" })).to.deep.equal(
            [],
        );
        expect(await runResourcePolicy(remoteCommandSecretLogging, TYPES.remoteCommand, { create: "cloud-init status --wait" })).to.deep.equal([]);
        expect(await runResourcePolicy(remoteCommandSecretLogging, TYPES.remoteCommand, { create: "true", stdin: "" })).to.deep.equal([]);
    });

    it("fires on a stdin that is logged, also when the stdin is not known yet during preview", async () => {
        const [v] = await runResourcePolicy(
            remoteCommandSecretLogging,
            TYPES.remoteCommand,
            { create: "bash -s", stdin: "deploy.cfg ..." },
            { name: "prod-app-1-configure" },
        );
        expect(v.message).to.equal(
            'prod-app-1-configure is given a stdin (files and secrets) but logs stdout and stderr (the default): a script that echoes what it reads would put the secrets into the Pulumi logs and the update history. Set logging: "none" on the command.',
        );
        const [unknown] = await runResourcePolicy(
            remoteCommandSecretLogging,
            TYPES.remoteCommand,
            { create: "bash -s", stdin: UNKNOWN, logging: "stderr" },
            { name: "c" },
        );
        expect(unknown.message).to.include('c is given a stdin (files and secrets) but logs "stderr"');
    });
});
