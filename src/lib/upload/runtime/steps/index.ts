// One function per active state.
import type { ActiveState, QueueItem } from '../../core/types';
import { committingStep } from './committing';
import type { StepContext } from './context';
import { hashingStep } from './hashing';
import { metadataStep } from './metadata';
import { uploadingStep } from './uploading';
import { verifyingStep } from './verifying';

export type Step = (ctx: StepContext, item: QueueItem) => Promise<QueueItem>;

export const STEPS: Record<ActiveState, Step> = {
  hashing: hashingStep,
  metadata: metadataStep,
  uploading: uploadingStep,
  committing: committingStep,
  verifying: verifyingStep,
};

export type { StepContext } from './context';
