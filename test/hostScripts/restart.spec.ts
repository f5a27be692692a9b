// The restarts, drains and failures of test/hostScripts/deploySuite.ts (its other half: deploy.spec.ts).
import { deployHostSuite } from "./deploySuite";

deployHostSuite("restarts");
