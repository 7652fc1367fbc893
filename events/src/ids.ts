/**
 * Job and upload ids: 6-64 URL-safe characters. Events, the API's paths and the dashboard's
 * addresses all check this one pattern; it imports nothing, so a browser bundle can take it alone.
 */
export const ID_PATTERN = /^[A-Za-z0-9_-]{6,64}$/;
