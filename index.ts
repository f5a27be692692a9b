// plone-aws: Plone on AWS. The configuration lives in Pulumi.<stack>.yaml; see README.md.
// The stack's outputs are PloneStack's (components/aws/ploneStack.ts, StackOutputs): the module's
// exports are what Pulumi records.
import { ploneProgram } from "./components/program";

export = ploneProgram();
