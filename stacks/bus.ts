import { LINK } from "@videoforge/core/config-sources";

/** The event bus every domain event goes through; its rules are in stacks/subscriptions.ts. */
export const eventBus = new sst.aws.Bus("EventBus");

/** Code sees `Resource.Bus.name`; PutEvents is granted per function from stacks/access.ts. */
export const bus = new sst.Linkable(LINK.bus, { properties: { name: eventBus.name } });
