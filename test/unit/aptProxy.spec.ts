// The test hosts' apt proxy, against a stand-in mirror on loopback.
import { expect } from "chai";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { AddressInfo } from "net";
import { cachePath, isImmutable, startAptProxy } from "../../scripts/lib/rehearsal/aptProxy";
import { tempDir } from "../helpers/system";

interface Reply {
    status: number;
    body: string;
}

function viaProxy(socketPath: string, url: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const req = http.request({ socketPath, path: url, headers: { host: new URL(url).host } }, (res) => {
            let body = "";
            res.on("data", (d: Buffer) => (body += d.toString()));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
            res.on("error", reject);
        });
        req.on("error", reject);
        req.end();
    });
}

describe("the rehearsal's apt proxy", () => {
    let dir: string;
    let cleanup: () => void;
    let mirror: http.Server;
    let proxy: http.Server;
    let base: string;
    const hits = new Map<string, number>();
    const socket = () => path.join(dir, "proxy.sock");

    beforeEach(async () => {
        ({ dir, cleanup } = tempDir("apt-proxy"));
        hits.clear();
        mirror = http.createServer((req, res) => {
            hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
            if (req.url!.includes("truncated")) {
                res.writeHead(200, { "content-length": 100 });
                res.write("short", () => res.socket?.destroy());
                return;
            }
            setTimeout(() => res.end(`content of ${req.url}`), 30);
        });
        await new Promise<void>((r) => mirror.listen(0, "127.0.0.1", r));
        base = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}`;
        proxy = await startAptProxy({ listen: socket(), cacheDir: path.join(dir, "cache"), allowedHosts: ["127.0.0.1"] });
    });
    afterEach(async () => {
        await new Promise((r) => proxy.close(r));
        await new Promise((r) => mirror.close(r));
        cleanup();
    });

    it("knows which mirror files never change", () => {
        expect(isImmutable("/debian/pool/main/h/haproxy/haproxy_2.6.12-1+deb12u4_amd64.deb")).to.equal(true);
        expect(
            isImmutable("/debian/dists/bookworm/main/binary-amd64/by-hash/SHA256/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
        ).to.equal(true);
        expect(isImmutable("/debian/dists/bookworm/InRelease")).to.equal(false);
        expect(isImmutable("/debian/dists/bookworm/main/binary-amd64/Packages.xz")).to.equal(false);
        // URL parsing resolves dot segments, so a path never climbs out of the mirror's cache dir.
        expect(cachePath("/c", new URL("http://deb.debian.org/debian/pool/../../../etc/passwd"))).to.equal("/c/deb.debian.org/etc/passwd");
        expect(cachePath("/c", new URL("http://deb.debian.org/debian/pool/%2e%2e/x.deb"))).to.equal("/c/deb.debian.org/debian/x.deb");
        expect(cachePath("/c", new URL("http://deb.debian.org/debian/pool/..%2f..%2f..%2fetc/x.deb"))).to.equal(undefined);
    });

    it("caches packages, passes index files through, and serves a package once to hosts asking together", async () => {
        const deb = `${base}/debian/pool/main/h/hello/hello_2.10-3_amd64.deb`;
        const [a, b] = await Promise.all([viaProxy(socket(), deb), viaProxy(socket(), deb)]);
        expect(a).to.deep.equal({ status: 200, body: "content of /debian/pool/main/h/hello/hello_2.10-3_amd64.deb" });
        expect(b.body).to.equal(a.body);
        expect((await viaProxy(socket(), deb)).body).to.equal(a.body);
        expect(hits.get("/debian/pool/main/h/hello/hello_2.10-3_amd64.deb")).to.equal(1);
        expect(fs.existsSync(path.join(dir, "cache", "127.0.0.1", "debian/pool/main/h/hello/hello_2.10-3_amd64.deb"))).to.equal(true);

        await viaProxy(socket(), `${base}/debian/dists/bookworm/InRelease`);
        await viaProxy(socket(), `${base}/debian/dists/bookworm/InRelease`);
        expect(hits.get("/debian/dists/bookworm/InRelease")).to.equal(2);
    });

    it("never keeps a truncated download", async () => {
        await viaProxy(socket(), `${base}/debian/pool/main/t/truncated/t_1_all.deb`).catch(() => undefined);
        await viaProxy(socket(), `${base}/debian/pool/main/t/truncated/t_1_all.deb`).catch(() => undefined);
        expect(hits.get("/debian/pool/main/t/truncated/t_1_all.deb")).to.equal(2);
        const kept = path.join(dir, "cache", "127.0.0.1", "debian/pool/main/t/truncated");
        expect(fs.existsSync(kept) ? fs.readdirSync(kept) : []).to.deep.equal([]);
    });

    it("refuses hosts other than the Debian mirror", async () => {
        const r = await viaProxy(socket(), "http://example.org/debian/pool/x.deb");
        expect(r.status).to.equal(403);
        expect(r.body).to.contain("example.org is not a Debian mirror this rehearsal may reach");
        expect(hits.size).to.equal(0);
    });
});
