import { ApiProperty } from '@nestjs/swagger';

export class WalletBalanceDto {
  @ApiProperty({ example: 150_000, description: 'Integer đồng' }) balance!: number;
  @ApiProperty({ example: 'VND' }) currency!: 'VND';
}
