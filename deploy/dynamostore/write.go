package dynamostore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// condWrite makes one conditional write w (a Put or an Update) that
// stores write ID wid in aWrite: with PutItem or UpdateItem, or, fenced,
// in a transaction behind the fence's check. When the condition fails it
// returns failed(the item as stored), unless the stored item carries wid:
// the write was made, and this is the SDK's retry of it.
func (s *Store) condWrite(ctx context.Context, record, key, op string, w types.TransactWriteItem, wid string, f *fence, failed func(old item) error) error {
	onFail := func(old item) error {
		if old != nil && str(old, aWrite) == wid {
			return nil
		}
		return failed(old)
	}
	if f != nil {
		return s.transact(ctx, record, key, op, f.with(txItem{w: w, failed: onFail}))
	}
	var err error
	const allOld = types.ReturnValuesOnConditionCheckFailureAllOld
	switch {
	case w.Put != nil:
		p := w.Put
		_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: &s.table, Item: p.Item, ConditionExpression: p.ConditionExpression,
			ExpressionAttributeNames: p.ExpressionAttributeNames, ExpressionAttributeValues: p.ExpressionAttributeValues,
			ReturnValuesOnConditionCheckFailure: allOld,
		})
		op += " (PutItem)"
	default:
		u := w.Update
		_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &s.table, Key: u.Key, UpdateExpression: u.UpdateExpression, ConditionExpression: u.ConditionExpression,
			ExpressionAttributeNames: u.ExpressionAttributeNames, ExpressionAttributeValues: u.ExpressionAttributeValues,
			ReturnValuesOnConditionCheckFailure: allOld,
		})
		op += " (UpdateItem)"
	}
	if old, ok := condFailed(err); ok {
		return onFail(old)
	}
	if err != nil {
		return s.opErr(record, key, op, err)
	}
	return nil
}
