// The rehearsal's AWS stand-in (scripts/lib/rehearsal/cloud/aws_standin.py) and its aws CLI
// stand-in (aws_cli.py) on the machine's loopback, without test hosts: the calls the boot script,
// the watch, the drain and the build-cache publication make, answered and printed as AWS and its
// CLI do (versions, --query/--output text, errors with exit 254), the metadata service's IMDSv2
// tokens, and the SRV records the VPC resolver answers for Cloud Map's registrations.
import { expect } from "chai";
import * as dgram from "dgram";
import * as fs from "fs";
import * as path from "path";
import { freePorts } from "../helpers/ports";
import { Processes } from "../helpers/frontendDaemons";
import { REPO } from "../helpers/stacks";
import { requireBinaries, run, tempDir } from "../helpers/system";

const CLOUD = path.join(REPO, "scripts", "lib", "rehearsal", "cloud");

/** The answer to an SRV query: its rcode and the (port, address) of each record. */
function querySrv(port: number, name: string): Promise<{ rcode: number; answers: number }> {
    const labels = name.split(".").map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
    const query = Buffer.concat([Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 33, 0, 1])]);
    return new Promise((resolve, reject) => {
        const socket = dgram.createSocket("udp4");
        socket.once("message", (m) => {
            socket.close();
            resolve({ rcode: m[3] & 0x0f, answers: m.readUInt16BE(6) });
        });
        socket.once("error", reject);
        socket.send(query, port, "127.0.0.1");
    });
}

describe("the rehearsal's AWS stand-in and aws CLI stand-in", function () {
    let tmp: { dir: string; cleanup: () => void };
    let procs: Processes;
    let api: number;
    let imds: number;
    let dns: number;
    const instances = (state: Record<string, string>) =>
        fs.writeFileSync(
            path.join(tmp.dir, "instances.json"),
            JSON.stringify({ "i-0abc": { address: "127.0.0.1", group: "stack-g", userData: "user-data", ...state } }),
        );
    const aws = (...args: string[]) =>
        run("python3", [path.join(CLOUD, "aws_cli.py"), "--region", "eu-west-1", ...args], {
            env: { ...process.env, PLONE_AWS_STANDIN_ENDPOINT: `http://127.0.0.1:${api}` },
        });
    const curl = (...args: string[]) => run("curl", ["-sS", "-o", "-", "-w", " %{http_code}", ...args]);

    before(async function () {
        requireBinaries(this, "python3", "curl");
        tmp = tempDir("aws-standin");
        procs = new Processes(tmp.dir);
        [api, imds, dns] = await freePorts(3);
        fs.mkdirSync(path.join(tmp.dir, "objects"));
        fs.writeFileSync(path.join(tmp.dir, "objects", "1"), "bundle v1\n");
        fs.writeFileSync(path.join(tmp.dir, "objects", "2"), "bundle v2\n");
        fs.writeFileSync(path.join(tmp.dir, "user-data"), "#!/bin/bash\necho booting\n");
        fs.writeFileSync(
            path.join(tmp.dir, "world.json"),
            JSON.stringify({
                region: "eu-west-1",
                api: { address: "127.0.0.1", port: api },
                imds: { address: "127.0.0.1", port: imds },
                dns: { address: "127.0.0.1", port: dns },
                buckets: ["bundles"],
                objects: [
                    { bucket: "bundles", key: "groups/g/bundle.sh", versionId: "v1", file: "objects/1" },
                    { bucket: "bundles", key: "groups/g/bundle.sh", versionId: "v2", file: "objects/2" },
                ],
                parameters: { "/plone-aws/stack/g/files/aaaa/0": "c2VjcmV0Cg==" },
                namespace: "stack.plone-aws.internal",
                services: [{ id: "srv-1", name: "_g-client1._tcp", ttl: 10 }],
                groups: [{ name: "stack-g", hooks: [{ name: "g-drain" }] }],
            }),
        );
        instances({ lifecycleState: "InService", targetLifecycleState: "InService" });
        procs.start("aws", "python3", [path.join(CLOUD, "aws_standin.py"), tmp.dir]);
        await procs.until("the AWS stand-in", async () => (fs.existsSync(path.join(tmp.dir, "ready")) ? true : undefined));
    });

    afterEach(function () {
        if (this.currentTest?.state === "failed") console.log(procs.log("aws").split("\n").slice(-20).join("\n"));
    });

    after(async () => {
        await procs?.stopAll();
        tmp?.cleanup();
    });

    it("S3: the version asked for, a version it does not have refused, head-object's 404 as exit 254, an upload read back", () => {
        const out = path.join(tmp.dir, "got");
        const got = aws("s3api", "get-object", "--bucket", "bundles", "--key", "groups/g/bundle.sh", "--version-id", "v1", out);
        expect(got.status, got.stderr).to.equal(0);
        expect(fs.readFileSync(out, "utf8")).to.equal("bundle v1\n");
        expect(JSON.parse(got.stdout)).to.deep.equal({ VersionId: "v1", ContentLength: 10 });
        const missing = aws("s3api", "get-object", "--bucket", "bundles", "--key", "groups/g/bundle.sh", "--version-id", "v9", out);
        expect(missing.status).to.equal(254);
        expect(missing.stderr).to.contain("An error occurred (NoSuchVersion) when calling the GetObject operation");
        const head = aws("s3api", "head-object", "--bucket", "bundles", "--key", "build-cache/plone.tar.gz");
        expect([head.status, head.stderr.trim()]).to.deep.equal([254, "An error occurred (404) when calling the HeadObject operation: Not Found"]);
        const put = run(
            "bash",
            [
                "-c",
                `printf cache | "$0" "$@"`,
                "python3",
                path.join(CLOUD, "aws_cli.py"),
                "--region",
                "eu-west-1",
                "s3",
                "cp",
                "--only-show-errors",
                "--sse",
                "aws:kms",
                "-",
                "s3://bundles/build-cache/plone.tar.gz",
            ],
            {
                env: { ...process.env, PLONE_AWS_STANDIN_ENDPOINT: `http://127.0.0.1:${api}` },
            },
        );
        expect(put.status, put.stderr).to.equal(0);
        expect(aws("s3api", "head-object", "--bucket", "bundles", "--key", "build-cache/plone.tar.gz").status).to.equal(0);
        expect(aws("s3", "cp", "--only-show-errors", "s3://bundles/build-cache/plone.tar.gz", "-").stdout).to.equal("cache");
        // The latest version when none is named.
        expect(aws("s3", "cp", "s3://bundles/groups/g/bundle.sh", "-").stdout).to.equal("bundle v2\n");
    });

    it("SSM: a SecureString's value with --query Parameter.Value --output text, only --with-decryption", () => {
        const value = aws(
            "ssm",
            "get-parameter",
            "--with-decryption",
            "--name",
            "/plone-aws/stack/g/files/aaaa/0",
            "--query",
            "Parameter.Value",
            "--output",
            "text",
        );
        expect(value.stdout).to.equal("c2VjcmV0Cg==\n");
        const encrypted = aws("ssm", "get-parameter", "--name", "/plone-aws/stack/g/files/aaaa/0", "--query", "Parameter.Value", "--output", "text");
        expect(encrypted.stdout.trim()).to.not.equal("c2VjcmV0Cg==");
        expect(aws("ssm", "get-parameter", "--with-decryption", "--name", "/nope").status).to.equal(254);
        // Without a region, as the CLI.
        const r = run("python3", [path.join(CLOUD, "aws_cli.py"), "ssm", "get-parameter", "--name", "x"]);
        expect([r.status, r.stderr]).to.deep.equal([253, 'You must specify a region. You can also configure your region by running "aws configure".\n']);
        // The call log never holds a value.
        expect(fs.readFileSync(path.join(tmp.dir, "calls.log"), "utf8")).to.not.contain("c2VjcmV0Cg==");
    });

    it("Cloud Map: a registration makes the SRV record the resolver answers; without instances the name does not exist (NXDOMAIN)", async () => {
        const name = "_g-client1._tcp.stack.plone-aws.internal";
        expect(await querySrv(dns, name)).to.deep.equal({ rcode: 3, answers: 0 });
        const reg = aws(
            "servicediscovery",
            "register-instance",
            "--service-id",
            "srv-1",
            "--instance-id",
            "i-0abc",
            "--attributes",
            "AWS_INSTANCE_IPV4=10.0.0.5,AWS_INSTANCE_PORT=8081",
        );
        expect(reg.status, reg.stderr).to.equal(0);
        expect(await querySrv(dns, name)).to.deep.equal({ rcode: 0, answers: 1 });
        expect(aws("servicediscovery", "list-instances", "--service-id", "srv-1", "--query", "Instances[].Id", "--output", "text").stdout).to.equal("i-0abc\n");
        expect(
            aws("servicediscovery", "register-instance", "--service-id", "srv-1", "--instance-id", "i-0abc", "--attributes", "AWS_INSTANCE_PORT=8081").status,
        ).to.equal(254);
        expect(aws("servicediscovery", "deregister-instance", "--service-id", "srv-1", "--instance-id", "i-0abc").status).to.equal(0);
        expect(await querySrv(dns, name)).to.deep.equal({ rcode: 3, answers: 0 });
        expect(aws("servicediscovery", "list-instances", "--service-id", "srv-1", "--query", "Instances[].Id", "--output", "text").stdout).to.equal("\n");
        expect(aws("servicediscovery", "deregister-instance", "--service-id", "srv-1", "--instance-id", "i-0abc").stderr).to.contain("(InstanceNotFound)");
    });

    it("Auto Scaling and the metadata service: the group's instances, IMDSv2 only, and a lifecycle action only while the hook holds the instance", () => {
        const describe = () =>
            aws(
                "autoscaling",
                "describe-auto-scaling-groups",
                "--auto-scaling-group-names",
                "stack-g",
                "--query",
                "AutoScalingGroups[0].Instances[].InstanceId",
                "--output",
                "text",
            ).stdout;
        expect(describe()).to.equal("i-0abc\n");
        const complete = () =>
            aws(
                "autoscaling",
                "complete-lifecycle-action",
                "--lifecycle-hook-name",
                "g-drain",
                "--auto-scaling-group-name",
                "stack-g",
                "--instance-id",
                "i-0abc",
                "--lifecycle-action-result",
                "CONTINUE",
            );
        expect(complete().stderr).to.contain("No active Lifecycle Action found with instance ID i-0abc");

        const token = curl("-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 60", `http://127.0.0.1:${imds}/latest/api/token`).stdout.split(" ")[0];
        const get = (p: string, t = token) => curl("-H", `X-aws-ec2-metadata-token: ${t}`, `http://127.0.0.1:${imds}/latest/${p}`).stdout;
        expect(get("meta-data/instance-id")).to.equal("i-0abc 200");
        expect(get("meta-data/local-ipv4")).to.equal("127.0.0.1 200");
        expect(get("user-data")).to.equal("#!/bin/bash\necho booting\n 200");
        expect(get("meta-data/autoscaling/target-lifecycle-state")).to.equal("InService 200");
        expect(curl(`http://127.0.0.1:${imds}/latest/meta-data/instance-id`).stdout, "IMDSv1").to.equal(" 401");
        expect(get("meta-data/instance-id", "forged")).to.equal(" 401");

        // The group ends the instance: the metadata service says so, the hook holds it until the action.
        instances({ lifecycleState: "Terminating:Wait", targetLifecycleState: "Terminated" });
        expect(get("meta-data/autoscaling/target-lifecycle-state")).to.equal("Terminated 200");
        const beat = aws(
            "autoscaling",
            "record-lifecycle-action-heartbeat",
            "--lifecycle-hook-name",
            "g-drain",
            "--auto-scaling-group-name",
            "stack-g",
            "--instance-id",
            "i-0abc",
        );
        expect(beat.status, beat.stderr).to.equal(0);
        expect(complete().status).to.equal(0);
        const actions = JSON.parse(fs.readFileSync(path.join(tmp.dir, "lifecycle.json"), "utf8")) as { action: string; result?: string }[];
        expect(actions.map((a) => [a.action, a.result ?? null])).to.deep.equal([
            ["heartbeat", null],
            ["complete", "CONTINUE"],
        ]);
        instances({ lifecycleState: "Terminated", targetLifecycleState: "Terminated" });
        expect(describe()).to.equal("\n");
    });
});
