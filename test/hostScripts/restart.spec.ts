// The restarts, drains and failures of test/hostScripts/deploySuite.ts (its other half: deploy.spec.ts).
import { describeAsRoot } from "../helpers/privileges";
import { deployHostSuite } from "./deploySuite";

describeAsRoot(
    "plone-deploy, plone-rollback and plone-restart (for real, in a temp dir): restarts",
    "plone-deploy runs as root with DEPLOY_USER=root",
    deployHostSuite("restarts"),
);
