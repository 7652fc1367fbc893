/**
 * Job and upload ids: 6-64 URL-safe characters. Events, the API's paths and the dashboard's
 * addresses all check this one pattern; it imports nothing, so a browser bundle can take it alone.
 */
export const ID_PATTERN = /^[A-Za-z0-9_-]{6,64}$/;

/**
 * A language tag as files and people write them (`en`, `pt-BR`, `eng`, `pt_br`): captions attached to a job,
 * the language of a source's audio stream. The same zero-import rule as the ids.
 */
export const LANGUAGE_TAG = /^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$/;
