// shellcheck on the scripts of volto hosts, following the sources as they are laid out on a host
// (script -> common.sh -> deploy.env): a volto-only front end and a host with clients and Volto.
import { expect } from "chai";
import { renderAppFiles } from "../../components/render/app";
import { contextOf, variantSpec } from "../helpers/appStacks";
import { shellcheckLaidOut } from "../helpers/shellcheck";
import { requireBinaries } from "../helpers/system";

describe("shellcheck on the scripts of volto hosts", function () {
    before(function () {
        requireBinaries(this, "shellcheck");
    });

    const { ctx, host } = contextOf(
        variantSpec(
            [
                { name: "zeo-1", layers: ["zeoserver"] },
                { name: "web-1", layers: ["frontend", "volto"] },
                { name: "both-1", layers: ["plone_instances", "volto"] },
            ],
            { plone: { blobs: "zeo" }, volto: { processCount: 2, environment: { RAZZLE_X: `it's "q" \`x\` ; y` } } },
        ),
    );

    for (const name of ["web-1", "both-1"]) {
        it(`common.sh, plone-deploy, plone-rollback, plone-restart, plone-volto with ${name}'s deploy.env`, function () {
            const files = renderAppFiles(ctx, host(name)).filter((f) => /\/(common\.sh|plone-(deploy|rollback|restart|volto)|deploy\.env)$/.test(f.path));
            expect(files).to.have.length(6);
            const r = shellcheckLaidOut(files);
            expect(r.output).to.equal("");
            expect(r.status).to.equal(0);
        });
    }
});
