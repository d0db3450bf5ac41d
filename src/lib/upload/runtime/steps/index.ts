// One function per active state.
import type { ActiveState, QueueItem } from '../../core/types';
import { committingStep } from './committing';
import type { StepContext } from './context';
import { hashingStep } from './hashing';
import { metadataStep } from './metadata';
import { uploadingStep } from './uploading';
import { verifyingStep } from './verifying';
import { fetchingStep } from './fetching';
import { thumbnailStep } from './thumbnail';
import { web2ConfirmStep } from './web2-confirm';
import { web2MetadataStep } from './web2-metadata';
import { web2UploadStep } from './web2-upload';

export type Step = (ctx: StepContext, item: QueueItem) => Promise<QueueItem>;

export const STEPS: Record<ActiveState, Step> = {
  fetching: fetchingStep,
  hashing: hashingStep,
  'web2-metadata': web2MetadataStep,
  'web2-upload': web2UploadStep,
  thumbnail: thumbnailStep,
  'web2-confirm': web2ConfirmStep,
  metadata: metadataStep,
  uploading: uploadingStep,
  committing: committingStep,
  verifying: verifyingStep,
};

export type { StepContext } from './context';
