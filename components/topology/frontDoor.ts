// What is in front of the front ends: an application load balancer, or the Elastic IP of the one
// front end. The configuration rules read it too (TLS modes, subnets), so it stands alone.
import type { StackSpec } from "../config/spec";

/** frontend.frontDoor, with auto resolved: a load balancer in front of several front ends. */
export function frontDoorKind(spec: Pick<StackSpec, "frontend" | "hosts">): "alb" | "eip" {
    if (spec.frontend.frontDoor !== "auto") return spec.frontend.frontDoor;
    return spec.hosts.filter((h) => h.layers.includes("frontend")).length > 1 ? "alb" : "eip";
}
