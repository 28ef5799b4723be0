import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/access.decorator';
import { CurrentUser, type AuthUser } from '../common/auth-user';
import { ApiIdempotencyKey, IdempotencyKey, type IdempotentRequest } from '../payments/idempotency';
import { OrdersService } from './orders.service';
import { CreateOrderDto, OrderDto } from './tickets.dto';

@ApiTags('orders')
@ApiBearerAuth()
@Roles('passenger')
@Controller('v1/orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @ApiIdempotencyKey()
  @ApiCreatedResponse({ type: OrderDto, description: 'Paid from the wallet with its tickets, or pending_payment with the payment to complete' })
  @ApiConflictResponse({ description: 'INSUFFICIENT_BALANCE: nothing was written' })
  create(@CurrentUser() user: AuthUser, @Body() body: CreateOrderDto, @IdempotencyKey() idempotency: IdempotentRequest): Promise<OrderDto> {
    return this.orders.create(user, body, idempotency);
  }

  @Get(':id')
  @ApiOkResponse({ type: OrderDto })
  @ApiNotFoundResponse({ description: 'No such order of yours' })
  get(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<OrderDto> {
    return this.orders.get(user.id, id);
  }
}
