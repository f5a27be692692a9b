// Exposure: what the internet and the admin sources may reach, and how the load balancer speaks TLS.
import { expect } from "chai";
import {
    albHttpRedirectsToHttps,
    albTlsPolicy,
    imdsv2Required,
    ingressWorldWebOnly,
    internalPortsFromGroups,
    rdsNotPublic,
    siteServedOverTls,
    sshFromAdminSources,
} from "../../policies/rules/exposure";
import { TYPES } from "../../policies/rules/common";
import { FakeStack, runResourcePolicy, UNKNOWN } from "../helpers/policyArgs";

/** The groups and rules of a prod-like stack: ALB in front, bastion for SSH, layers behind. */
function prodLikeNetwork(): { stack: FakeStack; groups: Record<string, ReturnType<FakeStack["group"]>> } {
    const stack = new FakeStack();
    const groups = Object.fromEntries(
        ["host", "bastion", "alb", "frontend", "plone_instances", "zeoserver", "shared_blobs", "database"].map((r) => [r, stack.group(r)]),
    );
    stack.ingress(groups.bastion, 22, "198.51.100.0/28");
    stack.ingress(groups.host, 22, groups.bastion);
    stack.ingress(groups.alb, 80, "0.0.0.0/0");
    stack.ingress(groups.alb, 443, "0.0.0.0/0");
    stack.ingress(groups.alb, 443, "::/0");
    stack.ingress(groups.frontend, 80, groups.alb);
    stack.ingress(groups.frontend, 1936, groups.bastion);
    stack.ingress(groups.plone_instances, [8081, 8088], groups.frontend);
    stack.ingress(groups.zeoserver, 8001, groups.plone_instances);
    stack.ingress(groups.shared_blobs, [24007, 24008], groups.shared_blobs);
    stack.ingress(groups.database, 5432, groups.plone_instances);
    return { stack, groups };
}

describe("policy ingress-world-web-only", () => {
    it("passes 80/443 from the internet on the load balancer (and 80 on a single front end)", async () => {
        const { stack } = prodLikeNetwork();
        expect(await stack.run(ingressWorldWebOnly)).to.deep.equal([]);
        const single = new FakeStack();
        single.ingress(single.group("frontend"), 80, "0.0.0.0/0");
        expect(await single.run(ingressWorldWebOnly)).to.deep.equal([]);
    });

    it("fires on ZEO open to the internet, naming the rule, the group and the service", async () => {
        const { stack, groups } = prodLikeNetwork();
        const rule = stack.ingress(groups.zeoserver, 8001, "0.0.0.0/0", { name: "prod-network-zeoserver-tcp-8001-from-world" });
        const violations = await stack.run(ingressWorldWebOnly);
        expect(violations).to.have.length(1);
        expect(violations[0].urn).to.equal(rule.urn);
        expect(violations[0].message).to.include(
            "prod-network-zeoserver-tcp-8001-from-world opens port 8001 (ZEO) on test-network-zeoserver (the zeoserver group) to the internet (0.0.0.0/0)",
        );
    });

    it("fires on web ports open to the internet on a group that is not the load balancer's or a front end's", async () => {
        const { stack, groups } = prodLikeNetwork();
        stack.ingress(groups.plone_instances, 443, "::/0");
        const [v] = await stack.run(ingressWorldWebOnly);
        expect(v.message).to.include(
            "opens port 443 (HTTPS) to the internet (::/0) on test-network-plone_instances (the plone_instances group): only the load balancer's and the front ends' groups face the internet",
        );
    });

    it("fires on every port opened inline in a group, and on a group without its role tag", async () => {
        const stack = new FakeStack();
        stack.add(TYPES.securityGroup, "legacy", { tags: {}, ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }] });
        const untagged = stack.add(TYPES.securityGroup, "untagged", { tags: {} });
        stack.ingress(untagged, 80, "0.0.0.0/0");
        const messages = (await stack.run(ingressWorldWebOnly)).map((v) => v.message);
        expect(messages[0]).to.include("legacy ingress[0] opens every port (-1) on legacy to the internet");
        expect(messages[1]).to.include("opens port 80 (HTTP) to the internet (0.0.0.0/0) on untagged:");
    });

    it("reads rules whose group ids are unknown during preview through their property dependencies", async () => {
        const stack = new FakeStack();
        const alb = stack.group("alb");
        stack.add(
            TYPES.ingressRule,
            "alb-443",
            { securityGroupId: UNKNOWN, ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" },
            { dependsOn: { securityGroupId: [alb] } },
        );
        expect(await stack.run(ingressWorldWebOnly)).to.deep.equal([]);
    });
});

describe("policy ssh-from-admin-sources", () => {
    it("passes SSH from a narrow admin CIDR and from the bastion's group, statistics from both", async () => {
        const { stack, groups } = prodLikeNetwork();
        stack.ingress(groups.frontend, 1936, "198.51.100.7/32");
        stack.ingress(groups.host, 22, "2001:db8::/56");
        expect(await stack.run(sshFromAdminSources)).to.deep.equal([]);
    });

    it("fires on SSH from 0.0.0.0/0 with the fix in the stack file", async () => {
        const { stack, groups } = prodLikeNetwork();
        const rule = stack.ingress(groups.bastion, 22, "0.0.0.0/0", { name: "prod-network-bastion-tcp-22-from-0-0-0-0-0" });
        const [v] = await stack.run(sshFromAdminSources);
        expect(v.urn).to.equal(rule.urn);
        expect(v.message).to.include(
            "prod-network-bastion-tcp-22-from-0-0-0-0-0 opens port 22 (SSH) on test-network-bastion (the bastion group) to the whole internet (0.0.0.0/0)",
        );
        expect(v.message).to.include("plone-aws:network.adminCidrs");
    });

    it("fires on a CIDR wider than the minimum prefix (configurable), and on the statistics page open to ::/0", async () => {
        const { stack, groups } = prodLikeNetwork();
        stack.ingress(groups.host, 22, "10.0.0.0/8");
        stack.ingress(groups.frontend, 1936, "::/0");
        const messages = (await stack.run(sshFromAdminSources)).map((v) => v.message);
        expect(messages[0]).to.include("to 10.0.0.0/8, wider than a /24");
        expect(messages[1]).to.include("port 1936 (haproxy statistics) on test-network-frontend (the frontend group) to the whole internet (::/0)");
        expect((await stack.run(sshFromAdminSources, { minAdminPrefix: 8 })).map((v) => v.message)).to.have.length(1);
    });

    it("fires on SSH from a group other than the bastion's", async () => {
        const { stack, groups } = prodLikeNetwork();
        stack.ingress(groups.zeoserver, 22, groups.frontend);
        const [v] = await stack.run(sshFromAdminSources);
        expect(v.message).to.include("to the members of test-network-frontend (the frontend group): only the bastion's group (bastion) may reach it");
    });
});

describe("policy internal-ports-from-groups", () => {
    it("passes services reached from their clients' groups, and web ports from a CIDR on the front end", async () => {
        const { stack, groups } = prodLikeNetwork();
        stack.ingress(groups.frontend, 80, "203.0.113.0/24");
        expect(await stack.run(internalPortsFromGroups)).to.deep.equal([]);
    });

    it("fires on ZEO, NFS and the Zope clients reachable from address ranges", async () => {
        const { stack, groups } = prodLikeNetwork();
        stack.ingress(groups.zeoserver, 8001, "10.40.0.0/16");
        stack.ingress(groups.plone_instances, [8081, 8088], "10.40.0.0/16");
        stack.add(
            TYPES.ingressRule,
            "nfs-from-list",
            { securityGroupId: "sg-x", ipProtocol: "tcp", fromPort: 2049, toPort: 2049, prefixListId: "pl-123" },
            { dependsOn: { securityGroupId: [groups.shared_blobs] } },
        );
        const messages = (await stack.run(internalPortsFromGroups)).map((v) => v.message);
        expect(messages).to.have.length(3);
        expect(messages[0]).to.include("lets 10.40.0.0/16 reach port 8001 (ZEO) on test-network-zeoserver (the zeoserver group)");
        expect(messages[0]).to.include("Reference the client layer's group (referencedSecurityGroupId) instead");
        expect(messages[1]).to.include("reach ports 8081-8088 (Zope clients)");
        expect(messages[2]).to.include("lets the prefix list pl-123 reach port 2049 (NFS)");
    });

    it("fires on the Volto processes reachable from an address range, and passes them from the front ends' group", async () => {
        const { stack, groups } = prodLikeNetwork();
        const volto = stack.group("volto");
        stack.ingress(volto, [3001, 3002], groups.frontend);
        stack.ingress(groups.frontend, 8080, volto);
        expect(await stack.run(internalPortsFromGroups)).to.deep.equal([]);
        stack.ingress(volto, [3001, 3004], "10.40.0.0/16");
        const messages = (await stack.run(internalPortsFromGroups)).map((v) => v.message);
        expect(messages).to.have.length(1);
        expect(messages[0]).to.include("lets 10.40.0.0/16 reach ports 3001-3004 (Volto processes) on test-network-volto (the volto group)");
    });
});

describe("policy rds-not-public", () => {
    it("passes a private database", async () => {
        expect(await runResourcePolicy(rdsNotPublic, TYPES.rdsInstance, { publiclyAccessible: false })).to.deep.equal([]);
    });

    it("fires on a publicly accessible one", async () => {
        const [v] = await runResourcePolicy(rdsNotPublic, TYPES.rdsInstance, { publiclyAccessible: true }, { name: "prod-db-instance" });
        expect(v.message).to.include("prod-db-instance is publicly accessible").and.include("Set publiclyAccessible to false");
    });
});

describe("policy imdsv2-required", () => {
    it("passes instances and launch templates requiring tokens", async () => {
        expect(await runResourcePolicy(imdsv2Required, TYPES.instance, { metadataOptions: { httpTokens: "required" } })).to.deep.equal([]);
        expect(await runResourcePolicy(imdsv2Required, TYPES.launchTemplate, { metadataOptions: { httpTokens: "required" } })).to.deep.equal([]);
    });

    it("fires on optional tokens and on instances without metadataOptions", async () => {
        const [optional] = await runResourcePolicy(
            imdsv2Required,
            TYPES.instance,
            { metadataOptions: { httpTokens: "optional" } },
            { name: "prod-web-1-instance" },
        );
        expect(optional.message)
            .to.include('prod-web-1-instance allows IMDSv1 (metadataOptions.httpTokens is "optional")')
            .and.include('Set metadataOptions.httpTokens to "required"');
        const [unset] = await runResourcePolicy(imdsv2Required, TYPES.launchTemplate, {}, { name: "lt" });
        expect(unset.message).to.include("lt allows IMDSv1 (metadataOptions.httpTokens is unset)");
    });
});

describe("policy alb-tls-policy", () => {
    it("passes TLS 1.2+ policies and ignores HTTP listeners", async () => {
        for (const sslPolicy of ["ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-3-2021-06", "ELBSecurityPolicy-FS-1-2-Res-2020-10"]) {
            expect(await runResourcePolicy(albTlsPolicy, TYPES.listener, { protocol: "HTTPS", port: 443, sslPolicy }), sslPolicy).to.deep.equal([]);
        }
        expect(await runResourcePolicy(albTlsPolicy, TYPES.listener, { protocol: "HTTP", port: 80 })).to.deep.equal([]);
    });

    it("fires on policies allowing TLS 1.0/1.1 and on the AWS default, per the configured allow-list", async () => {
        const [old] = await runResourcePolicy(
            albTlsPolicy,
            TYPES.listener,
            { protocol: "HTTPS", sslPolicy: "ELBSecurityPolicy-TLS13-1-1-2021-06" },
            { name: "prod-front-door-https" },
        );
        expect(old.message).to.include("prod-front-door-https serves HTTPS with ELBSecurityPolicy-TLS13-1-1-2021-06, not a TLS 1.2+ policy");
        expect(old.message).to.include("set plone-aws:frontend.tls.sslPolicy to ELBSecurityPolicy-TLS13-1-2-2021-06");
        const [unset] = await runResourcePolicy(albTlsPolicy, TYPES.albListener, { protocol: "HTTPS" }, { name: "l" });
        expect(unset.message).to.include("no sslPolicy (AWS then uses ELBSecurityPolicy-2016-08, which allows TLS 1.0)");
        const strict = await runResourcePolicy(
            albTlsPolicy,
            TYPES.listener,
            { protocol: "HTTPS", sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" },
            { config: { allowedSslPolicies: ["ELBSecurityPolicy-TLS13-1-3-*"] } },
        );
        expect(strict).to.have.length(1);
    });
});

describe("policy alb-http-redirects-to-https", () => {
    function loadBalancer(httpAction: Record<string, unknown>, https = true): FakeStack {
        const stack = new FakeStack();
        const lb = stack.add(TYPES.loadBalancer, "prod-front-door-alb", { loadBalancerType: "application" });
        const dependsOn = { loadBalancerArn: [lb] };
        if (https)
            stack.add(
                TYPES.listener,
                "prod-front-door-https",
                { loadBalancerArn: UNKNOWN, protocol: "HTTPS", port: 443, defaultActions: [{ type: "forward" }] },
                { dependsOn },
            );
        stack.add(
            TYPES.listener,
            "prod-front-door-http",
            { loadBalancerArn: UNKNOWN, protocol: "HTTP", port: 80, defaultActions: [httpAction] },
            { dependsOn },
        );
        return stack;
    }

    it("passes an HTTP listener that redirects to HTTPS, and plain HTTP on a load balancer without HTTPS", async () => {
        expect(
            await loadBalancer({ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }).run(albHttpRedirectsToHttps),
        ).to.deep.equal([]);
        expect(await loadBalancer({ type: "forward" }, false).run(albHttpRedirectsToHttps)).to.deep.equal([]);
    });

    it("fires on an HTTP listener that forwards beside an HTTPS one", async () => {
        const [v] = await loadBalancer({ type: "forward", targetGroupArn: "arn:tg" }).run(albHttpRedirectsToHttps);
        expect(v.message).to.include("prod-front-door-http (HTTP, port 80) serves the site although the load balancer has HTTPS");
        expect(v.message).to.include("Make its default action a redirect to HTTPS (statusCode HTTP_301)");
    });
});

describe("policy site-served-over-tls", () => {
    function stackWith(tier: string, tls: Record<string, unknown>): FakeStack {
        const stack = new FakeStack();
        stack.add(TYPES.ploneStack, "prod", { spec: { tier, frontend: { domain: "www.example.org", tls } } });
        return stack;
    }

    it("passes production with ACM or certbot, production whose plain HTTP is declared intended, and other tiers", async () => {
        for (const tls of [
            { mode: "acm", certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/x" },
            { mode: "certbot", email: "ops@example.org" },
            { mode: "none", plainHttpIntended: true },
        ]) {
            expect(await stackWith("production", tls).run(siteServedOverTls), JSON.stringify(tls)).to.deep.equal([]);
        }
        expect(await stackWith("staging", { mode: "none", plainHttpIntended: false }).run(siteServedOverTls)).to.deep.equal([]);
    });

    it("fires on a production stack served over plain HTTP, naming the keys that fix it", async () => {
        const [v] = await stackWith("production", { mode: "none", plainHttpIntended: false }).run(siteServedOverTls);
        expect(v.message).to.include("prod is a production stack that serves www.example.org over plain HTTP");
        expect(v.message).to.include("set frontend.tls.plainHttpIntended: true");
    });
});
