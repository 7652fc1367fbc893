/** The ECS control plane adapters (launch, stop), for the Lambdas and tests that need only them. */
export * from "./ecs-task-launcher.ts";
export * from "./ecs-task-stopper.ts";
