import { sweeperAccess } from "./access.ts";
import { bundledFunction, dataLinks, handlerPermissions } from "./functions.ts";

/**
 * The sweeper (packages/functions/src/lambda/sweeper.ts): every 5 minutes it finds jobs
 * that stopped moving (a publish lost after a state write, a task that vanished) and
 * re-drives or fails them, on AWS as the local cloud does.
 */
export const sweeper = bundledFunction("Sweeper", "sweeper", {
  link: dataLinks,
  permissions: handlerPermissions(sweeperAccess),
});

export const sweeperSchedule = new sst.aws.Cron("SweeperSchedule", { schedule: "rate(5 minutes)", function: sweeper });
