/**
 * The failure converter used when payloads are encrypted (CCS_CODEC_KEYS): a failure's message and
 * stack trace move into its encoded attributes, a payload, so the codec encrypts them with the rest
 * and history shows only "Encoded failure". Clients decode them without this module (the SDK's
 * default converter reads encoded attributes), given the key.
 *
 * Loaded by path, twice: into the workflow bundle (the sandbox converts workflow failures) and by
 * the worker for activity failures. Without encryption the default converter keeps messages
 * readable, so operators without a key still see why a run failed.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
