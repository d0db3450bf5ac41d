// The local chain: an EIP-3009 token kept in SQL. It does what the token
// contract does on a real chain (balances, one-time authorization nonces,
// the time window, the EIP-712 signature of `from`) and nothing else, so the
// x402 packages' own facilitator code can verify and settle against it.
import { randomBytes } from 'node:crypto';
import { authorizationTypes } from '@x402/evm';
import { getAddress, recoverTypedDataAddress, serializeSignature, type Hex } from 'viem';
import type { IpfsDb } from '../schema.js';
import { toIso } from '../../services/time.js';

export interface LedgerToken {
  /** CAIP-2 network, e.g. `eip155:31337`. */
  network: string;
  chainId: number;
  /** The token's address (the EIP-712 verifying contract). */
  asset: Hex;
  /** EIP-712 domain name and version. */
  name: string;
  version: string;
}

export class LedgerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerError';
  }
}

export interface Authorization {
  from: Hex;
  to: Hex;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
  signature: Hex;
}

const big = (v: number | string | bigint): bigint => BigInt(String(v));

export class Ledger {
  constructor(
    private readonly db: IpfsDb,
    readonly token: LedgerToken,
    private readonly now: () => Date,
  ) {}

  private key(address: string) {
    return { network: this.token.network, asset: getAddress(this.token.asset), address: getAddress(address) };
  }

  async balanceOf(address: string): Promise<bigint> {
    const k = this.key(address);
    const r = await this.db
      .selectFrom('x402_ledger_accounts')
      .select('balance')
      .where('network', '=', k.network)
      .where('asset', '=', k.asset)
      .where('address', '=', k.address)
      .executeTakeFirst();
    return r ? big(r.balance) : 0n;
  }

  async authorizationUsed(authorizer: string, nonce: string): Promise<boolean> {
    const r = await this.db
      .selectFrom('x402_ledger_authorizations')
      .select('tx_hash')
      .where('network', '=', this.token.network)
      .where('asset', '=', getAddress(this.token.asset))
      .where('authorizer', '=', getAddress(authorizer))
      .where('nonce', '=', nonce.toLowerCase())
      .executeTakeFirst();
    return r !== undefined;
  }

  /** Development only: credits `amount` to `address` (the local faucet). */
  async mint(address: string, amount: bigint): Promise<bigint> {
    if (amount <= 0n) throw new LedgerError('mint amount must be positive');
    const k = this.key(address);
    const at = toIso(this.now());
    await this.db
      .insertInto('x402_ledger_accounts')
      .values({ ...k, balance: amount.toString(), updated_at: at })
      .onConflict((oc) =>
        oc.columns(['network', 'asset', 'address']).doUpdateSet((eb) => ({ balance: eb('x402_ledger_accounts.balance', '+', amount.toString()), updated_at: at })),
      )
      .execute();
    return this.balanceOf(address);
  }

  /** What transferWithAuthorization checks, in the order the token contract checks it; throws with the revert reason. */
  async check(a: Authorization): Promise<void> {
    const nowS = BigInt(Math.floor(this.now().getTime() / 1000));
    if (nowS <= a.validAfter) throw new LedgerError('FiatTokenV2: authorization is not yet valid');
    if (nowS >= a.validBefore) throw new LedgerError('FiatTokenV2: authorization is expired');
    if (await this.authorizationUsed(a.from, a.nonce)) throw new LedgerError('FiatTokenV2: authorization is used or canceled');
    const signer = await recoverTypedDataAddress({
      domain: { name: this.token.name, version: this.token.version, chainId: this.token.chainId, verifyingContract: getAddress(this.token.asset) },
      types: authorizationTypes,
      primaryType: 'TransferWithAuthorization',
      message: { from: getAddress(a.from), to: getAddress(a.to), value: a.value, validAfter: a.validAfter, validBefore: a.validBefore, nonce: a.nonce },
      signature: a.signature,
    }).catch(() => null);
    if (!signer || getAddress(signer) !== getAddress(a.from)) throw new LedgerError('FiatTokenV2: invalid signature');
    if ((await this.balanceOf(a.from)) < a.value) throw new LedgerError('ERC20: transfer amount exceeds balance');
  }

  /** Executes the transfer once: the nonce row and the debit commit together or not at all. */
  async transferWithAuthorization(a: Authorization): Promise<Hex> {
    await this.check(a);
    const tx = `0x${randomBytes(32).toString('hex')}` as Hex;
    const at = toIso(this.now());
    const from = this.key(a.from);
    const to = this.key(a.to);
    await this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('x402_ledger_authorizations')
        .values({ network: from.network, asset: from.asset, authorizer: from.address, nonce: a.nonce.toLowerCase(), tx_hash: tx, created_at: at })
        .onConflict((oc) => oc.doNothing())
        .returning('tx_hash')
        .executeTakeFirst();
      if (!inserted) throw new LedgerError('FiatTokenV2: authorization is used or canceled');
      const debited = await trx
        .updateTable('x402_ledger_accounts')
        .set((eb) => ({ balance: eb('balance', '-', a.value.toString()), updated_at: at }))
        .where('network', '=', from.network)
        .where('asset', '=', from.asset)
        .where('address', '=', from.address)
        .where('balance', '>=', a.value.toString())
        .executeTakeFirst();
      if (Number(debited.numUpdatedRows) !== 1) throw new LedgerError('ERC20: transfer amount exceeds balance');
      await trx
        .insertInto('x402_ledger_accounts')
        .values({ ...to, balance: a.value.toString(), updated_at: at })
        .onConflict((oc) =>
          oc.columns(['network', 'asset', 'address']).doUpdateSet((eb) => ({ balance: eb('x402_ledger_accounts.balance', '+', a.value.toString()), updated_at: at })),
        )
        .execute();
      await trx
        .insertInto('x402_ledger_transfers')
        .values({ tx_hash: tx, network: from.network, asset: from.asset, from_address: from.address, to_address: to.address, value: a.value.toString(), created_at: at })
        .execute();
    });
    return tx;
  }

  async transfer(tx: string) {
    const r = await this.db.selectFrom('x402_ledger_transfers').selectAll().where('tx_hash', '=', tx).executeTakeFirst();
    return r ? { from: r.from_address as Hex, to: r.to_address as Hex, value: big(r.value) } : null;
  }

  /** Every transfer from `address` (tests and the dev wallet's history). */
  async transfersFrom(address: string) {
    const rows = await this.db
      .selectFrom('x402_ledger_transfers')
      .selectAll()
      .where('network', '=', this.token.network)
      .where('from_address', '=', getAddress(address))
      .orderBy('created_at')
      .execute();
    return rows.map((r) => ({ tx: r.tx_hash, to: r.to_address, value: big(r.value) }));
  }
}

/** (v, r, s) as the contract receives them, back to one 65-byte signature. */
export function joinSignature(v: number | bigint, r: Hex, s: Hex): Hex {
  const n = Number(v);
  return serializeSignature({ r, s, yParity: n >= 27 ? n - 27 : n });
}
