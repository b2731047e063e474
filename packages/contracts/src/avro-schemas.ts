import { LeakwatchError } from '@leakwatch/errors';
import avro from 'avsc';
import {
  ALERT_DISPOSITION_AVSC,
  CARD_AUTHORIZATION_AVSC,
  SUSPICIOUS_CHARGE_ALERT_AVSC,
} from './generated/avro-schemas.js';

/** The record names of the contract, as in `schemas/*.avsc`. */
export type ContractRecordName = 'CardAuthorization' | 'SuspiciousChargeAlert' | 'AlertDisposition';

/** One Avro schema of the contract: the text to register, its parsed JSON and the avsc type. */
export interface ContractSchema {
  readonly name: ContractRecordName;
  /** Full name with namespace, e.g. `io.leakwatch.v1.CardAuthorization`. */
  readonly fullName: string;
  /** The file under `schemas/` this was embedded from. */
  readonly fileName: string;
  /**
   * The exact text of the .avsc file. This, not a re-serialisation, is what gets registered:
   * a registry that compares text (Apicurio hashes content) then answers the same id every time.
   */
  readonly text: string;
  /** The parsed schema (JSON). */
  readonly json: Readonly<Record<string, unknown>>;
  /**
   * The avsc type, built without logical-type classes: `timestamp-millis` fields read and write
   * plain epoch-millisecond numbers. Unions of null and one type read as the bare value.
   */
  readonly type: avro.Type;
}

function contractSchema(name: ContractRecordName, text: string): ContractSchema {
  const json = JSON.parse(text) as Record<string, unknown>;
  const type = avro.Type.forSchema(json as avro.Schema, { wrapUnions: 'auto' });
  if (type.name !== `${String(json.namespace)}.${name}`) {
    // a renamed record in the .avsc would otherwise surface far away, as a failed resolution
    throw new LeakwatchError(
      'INTERNAL',
      `schemas/${name}.avsc defines ${String(type.name)}, expected ${name}`,
    );
  }
  return { name, fullName: type.name, fileName: `${name}.avsc`, text, json, type };
}

/** `schemas/CardAuthorization.avsc`: the value of `card.authorizations.v1`. */
export const cardAuthorizationAvro: ContractSchema = contractSchema(
  'CardAuthorization',
  CARD_AUTHORIZATION_AVSC,
);

/** `schemas/SuspiciousChargeAlert.avsc`: the value of `card.alerts.v1` and `partner.<id>.alerts.v1`. */
export const suspiciousChargeAlertAvro: ContractSchema = contractSchema(
  'SuspiciousChargeAlert',
  SUSPICIOUS_CHARGE_ALERT_AVSC,
);

/** `schemas/AlertDisposition.avsc`: the value of `card.alert-dispositions.v1`. */
export const alertDispositionAvro: ContractSchema = contractSchema(
  'AlertDisposition',
  ALERT_DISPOSITION_AVSC,
);

/** Every schema of the contract, by record name. */
export const contractSchemas: Readonly<Record<ContractRecordName, ContractSchema>> = {
  CardAuthorization: cardAuthorizationAvro,
  SuspiciousChargeAlert: suspiciousChargeAlertAvro,
  AlertDisposition: alertDispositionAvro,
};
