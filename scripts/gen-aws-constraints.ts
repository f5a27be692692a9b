// npm run gen:aws-constraints [-- BOTOCORE_DATA_DIR]
// Writes scripts/lib/awsCheck/api-constraints.json from AWS's service models as botocore ships
// them (Debian: apt-get install python3-botocore). Run it after changing apiFields.ts; the test
// test/unit/aws-constraints.spec.ts checks the committed file is what this writes.
import * as fs from "fs";
import { API_CONSTRAINTS_FILE, BOTOCORE_DATA_DIR, generateApiConstraints, renderApiConstraints } from "./lib/awsCheck/generate";

const dir = process.argv[2] ?? BOTOCORE_DATA_DIR;
if (!fs.existsSync(dir)) {
    console.error(`error: no botocore models in ${dir}: apt-get install python3-botocore, or give the data directory`);
    process.exit(1);
}
try {
    const data = generateApiConstraints(dir);
    fs.writeFileSync(API_CONSTRAINTS_FILE, renderApiConstraints(data));
    console.log(
        `wrote ${API_CONSTRAINTS_FILE}: ${data.constraints.length} constraints from botocore ${data.botocore} (${Object.keys(data.models).join(", ")})`,
    );
} catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
}
