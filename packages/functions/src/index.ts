export { handlers } from "./registry.ts";
export type { Handler, ParsedEvent } from "./handlers/on.ts";
export { createApi } from "./api/app.ts";
