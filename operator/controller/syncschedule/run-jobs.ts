// The run Jobs through the batch API: create (a 409 means the run already started, e.g. before a
// restart: the deterministic name is the lock) and delete in the background (a 404 is done already).
import { BatchV1Api, type V1Job } from '@kubernetes/client-node';
import type { Kube } from '../../internal/kube/kube.ts';
import { safeMessage, statusCodeOf } from '../../runtime/errors.ts';
import type { Logger } from '../../runtime/logger.ts';

export class RunJobs {
  private readonly batch: BatchV1Api;
  private readonly custom: Kube['custom'];
  private readonly logger: Logger;

  constructor(kube: Kube, logger: Logger) {
    this.batch = kube.kubeConfig.makeApiClient(BatchV1Api);
    this.custom = kube.custom;
    this.logger = logger;
  }

  /**
   * True if this call created the Job, false if it existed already; other errors are thrown. Sent
   * and read back as plain JSON (the generic object client on batch/v1 jobs): the typed client walks
   * the whole Job through its model serializer both ways, which was most of our CPU per run at a
   * fleet's shared tick, and nothing reads the response.
   */
  async create(namespace: string, job: V1Job): Promise<boolean> {
    try {
      await this.custom.createNamespacedCustomObject({ group: 'batch', version: 'v1', namespace, plural: 'jobs', body: job });
      return true;
    } catch (error) {
      if (statusCodeOf(error) !== 409) throw error;
      return false;
    }
  }

  /** Deletes a run; a failure is logged, not thrown (the next reconcile tries again). */
  async delete(namespace: string, name: string): Promise<void> {
    try {
      await this.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' });
    } catch (error) {
      if (statusCodeOf(error) !== 404)
        this.logger.warn('could not delete a run', { job: `${namespace}/${name}`, error: safeMessage(error) });
    }
  }
}
