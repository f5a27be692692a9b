// A RenderContext for offline use (review renders, tests): the plan's mock addresses, a mock RDS
// endpoint, and placeholders instead of secret values.
import type { StackSpec } from "../../../components/config/spec";
import { maskedSecrets, RenderContext } from "../../../components/render/context";
import { buildTopology, PORTS } from "../../../components/topology";
import { offsiteTarget } from "../../../components/topology/offsite";
import { MOCK_ACCOUNT_ID, mockId, mockRdsAddress, plannedHostAddresses } from "./run";

export function offlineRenderContext(spec: StackSpec): RenderContext {
    const topology = buildTopology(spec);
    const db = topology.endpoints.database;
    return {
        spec,
        topology,
        addresses: plannedHostAddresses(spec),
        database: !db
            ? undefined
            : db.kind === "external"
              ? { address: db.address, port: db.port }
              : { address: mockRdsAddress(`${spec.resourcePrefix}-db-instance`, spec.region), port: spec.database?.port ?? PORTS.postgres },
        // Resource names as PloneStack registers them, so the review render matches the plan.
        efsDnsName: topology.efs ? `${mockId("aws:efs/fileSystem:FileSystem", `${spec.resourcePrefix}-blobs-fs`)}.efs.${spec.region}.amazonaws.com` : undefined,
        secrets: maskedSecrets(spec),
        offsite: offsiteTarget(spec, MOCK_ACCOUNT_ID),
    };
}
