// The cookbook's monitoring recipes (New Relic, Papertrail) imported into plone-aws:monitoring.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { importOpsWorks, Json } from "../../scripts/lib/opsworks/convert";
import { REPO } from "../helpers/stacks";
import { configOf } from "../helpers/stackTools";

describe("import-opsworks: New Relic and Papertrail", () => {
    it("carries papertrail.* to monitoring.remoteSyslog and newrelic.* to monitoring.newRelic, the license as a secret", () => {
        const json = JSON.parse(fs.readFileSync(path.join(REPO, "test/fixtures/opsworks/simple-single-host.json"), "utf8")) as Record<string, Json>;
        json.papertrail = { remote_host: "logs7.papertrailapp.com", remote_port: 12345, watch_files: { "/var/log/solr.log": "solr" } };
        json.newrelic = { license: "0123abcd", infrastructure: true, application_monitoring: { app_name: "My site" } };
        json.plone_instances = { ...(json.plone_instances as Record<string, Json>), newrelic_tracing: true };
        const r = importOpsWorks(json, { stack: "imported", jsonFile: "x.json", adminCidrs: [], now: new Date("2026-01-01T00:00:00Z") });
        expect(r.issues).to.deep.equal([]);
        const monitoring = configOf(r.text!)["plone-aws:monitoring"];
        expect(monitoring).to.deep.equal({
            remoteSyslog: { host: "logs7.papertrailapp.com", port: 12345, files: { "/var/log/solr.log": "solr" } },
            newRelic: { infrastructure: true, pythonAgent: true, appName: "My site" },
        });
        expect(r.text).to.not.include("0123abcd");
        expect(r.secrets.map((s) => s.key)).to.include("plone-aws:newRelicLicenseKey");
    });
});
