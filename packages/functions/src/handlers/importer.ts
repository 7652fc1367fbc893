import { importSource } from "@videoforge/core";
import { on } from "./on.ts";

export const importer = on("SourceImportRequested", importSource);
