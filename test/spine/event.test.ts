import { describe, expect, it } from 'vitest';
import { EventParseError } from '../../shared/errors';
import { parseRestoreJobEvent } from '../../shared/event';
import { fixture, fixtureNames } from '../support/fixtures';

describe('parseRestoreJobEvent', () => {
  const names = fixtureNames();

  it('finds the shared fixtures', () => {
    expect(names.length).toBeGreaterThanOrEqual(14);
  });

  it.each(names.filter((n) => !n.startsWith('malformed-')))('accepts %s', (name) => {
    const raw = fixture(name);
    const event = parseRestoreJobEvent(raw);
    expect(event.detail.restoreJobId).toBe(raw.detail.restoreJobId);
    expect(event.detail.status).toBe(String(raw.detail.status ?? raw.detail.state).toUpperCase());
  });

  it.each(names.filter((n) => n.startsWith('malformed-')))(
    'rejects %s with one typed error naming the field',
    (name) => {
      expect(() => parseRestoreJobEvent(fixture(name))).toThrow(EventParseError);
    },
  );

  it('names detail.restoreJobId when the job id is missing', () => {
    const err = (() => {
      try {
        parseRestoreJobEvent(fixture('malformed-missing-job-id.json'));
      } catch (e) {
        return e as EventParseError;
      }
    })();
    expect(err?.field).toBe('detail.restoreJobId');
    expect(err?.message).toContain('is missing');
  });

  it('names detail-type when the event is not a restore job event', () => {
    expect(() => parseRestoreJobEvent(fixture('malformed-wrong-detail-type.json'))).toThrow(
      /detail-type.*Restore Job State Change/,
    );
  });

  it('reads sizes given as strings or numbers', () => {
    expect(parseRestoreJobEvent(fixture('completed-s3.json')).detail.backupSizeInBytes).toBe(21474836480);
    const numeric = parseRestoreJobEvent(fixture('completed-s3-numeric-fields.json')).detail;
    expect(numeric.backupSizeInBytes).toBe(5368709120);
    expect(numeric.percentDone).toBe(100);
  });

  it('uses state when status is absent (CREATED events)', () => {
    expect(parseRestoreJobEvent(fixture('created-uses-state-key.json')).detail.status).toBe('CREATED');
  });

  it('keeps DynamoDB.FullyManaged and the absence of a plan ARN', () => {
    expect(parseRestoreJobEvent(fixture('completed-dynamodb-fully-managed.json')).detail.resourceType).toBe(
      'DynamoDB.FullyManaged',
    );
    expect(
      parseRestoreJobEvent(fixture('completed-manual-restore.json')).detail.restoreTestingPlanArn,
    ).toBeUndefined();
  });

  it('rejects an event whose status and state are both missing', () => {
    const raw = fixture('completed-rds.json');
    delete raw.detail.status;
    expect(() => parseRestoreJobEvent(raw)).toThrow(/detail.status/);
  });

  it('rejects a non-numeric size', () => {
    const raw = fixture('completed-rds.json');
    raw.detail.backupSizeInBytes = 'lots';
    expect(() => parseRestoreJobEvent(raw)).toThrow(/detail.backupSizeInBytes/);
  });

  it('names the field and what it holds when a field has the wrong type (not "is missing")', () => {
    const raw = fixture('completed-rds.json');
    raw.detail.resourceType = 42;
    let err: EventParseError | undefined;
    try {
      parseRestoreJobEvent(raw);
    } catch (e) {
      err = e as EventParseError;
    }
    expect(err?.field).toBe('detail.resourceType');
    expect(err?.message).toBe(
      'invalid Restore Job State Change event: detail.resourceType: expected string, got number',
    );
    raw.detail.resourceType = 'RDS';
    raw.detail.createdResourceArn = { arn: 'x' };
    expect(() => parseRestoreJobEvent(raw)).toThrow(/detail.createdResourceArn: expected string, got object/);
  });

  it('reads leniently what AWS may send: null or "" for absent values, booleans and job ids as text', () => {
    const raw = fixture('completed-rds.json');
    Object.assign(raw.detail, {
      backupSizeInBytes: null,
      percentDone: '',
      isParent: 'false',
      statusMessage: null,
      createdResourceArn: '',
    });
    const d = parseRestoreJobEvent(raw).detail;
    expect(d.backupSizeInBytes).toBeUndefined();
    expect(d.percentDone).toBeUndefined();
    expect(d.isParent).toBe(false);
    expect(d.statusMessage).toBeUndefined();
    expect(d.createdResourceArn).toBeUndefined();
    raw.detail.restoreJobId = 4242;
    expect(parseRestoreJobEvent(raw).detail.restoreJobId).toBe('4242');
    raw.detail.restoreJobId = '  AB12  ';
    expect(parseRestoreJobEvent(raw).detail.restoreJobId).toBe('AB12');
  });
});
