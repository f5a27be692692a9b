// The deploys, rollbacks and releases of test/hostScripts/deploySuite.ts (its other half: restart.spec.ts).
import { deployHostSuite } from "./deploySuite";

deployHostSuite("deploys");
