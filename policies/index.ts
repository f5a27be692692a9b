// The plone-guard policy pack. This file only serves the pack (it starts a gRPC server and keeps
// the process alive): the policies live in ./rules, where tests import them from.
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, packArgs } from "./rules/all";

new PolicyPack(PACK_NAME, packArgs);
