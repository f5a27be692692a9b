// The deploys, rollbacks and releases of test/hostScripts/deploySuite.ts (its other half: restart.spec.ts).
import { describeAsRoot } from "../helpers/privileges";
import { deployHostSuite } from "./deploySuite";

describeAsRoot(
    "plone-deploy, plone-rollback and plone-restart (for real, in a temp dir): deploys",
    "plone-deploy runs as root with DEPLOY_USER=root",
    deployHostSuite("deploys"),
);
