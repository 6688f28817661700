package rtmp

import (
	"fmt"

	"github.com/mediaserver/mediaserver/amf"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
)

// Command is an RTMP command message (AMF0 type 20 or AMF3 type 17): a
// procedure name, a transaction id, a command object and optional arguments.
type Command struct {
	Name          string
	TransactionID float64
	Object        any
	Args          []any
}

// Arg returns argument i, or nil when the command has fewer arguments.
func (c Command) Arg(i int) any {
	if i < 0 || i >= len(c.Args) {
		return nil
	}
	return c.Args[i]
}

// StringArg returns argument i when it is a string.
func (c Command) StringArg(i int) (string, bool) {
	s, ok := c.Arg(i).(string)
	return s, ok
}

// NumberArg returns argument i when it is a number.
func (c Command) NumberArg(i int) (float64, bool) {
	n, ok := c.Arg(i).(float64)
	return n, ok
}

// BoolArg returns argument i when it is a boolean.
func (c Command) BoolArg(i int) (bool, bool) {
	b, ok := c.Arg(i).(bool)
	return b, ok
}

// ObjectProperty looks a key up in the command object, whichever AMF object
// form the client used.
func (c Command) ObjectProperty(key string) (any, bool) {
	return property(c.Object, key)
}

// property looks key up in an AMF object, ECMA array or AMF3 object.
func property(v any, key string) (any, bool) {
	switch o := v.(type) {
	case amf.Object:
		return o.Get(key)
	case amf.ECMAArray:
		return o.Get(key)
	case amf.Object3:
		for _, p := range o.Sealed {
			if p.Key == key {
				return p.Value, true
			}
		}
		for _, p := range o.Dynamic {
			if p.Key == key {
				return p.Value, true
			}
		}
	}
	return nil, false
}

// amfPayload returns the AMF0 body of a command or data message. AMF3
// command and data messages (types 17 and 15) start with a format byte
// (0) followed by AMF0 values that may switch to AMF3 per value.
func amfPayload(msg *chunk.Message) ([]byte, error) {
	switch msg.Type {
	case chunk.TypeCommandAMF3, chunk.TypeDataAMF3:
		if len(msg.Payload) == 0 {
			return nil, fmt.Errorf("%v message: empty payload", msg.Type)
		}
		return msg.Payload[1:], nil
	default:
		return msg.Payload, nil
	}
}

// ParseCommand decodes a command message.
func ParseCommand(msg *chunk.Message) (Command, error) {
	body, err := amfPayload(msg)
	if err != nil {
		return Command{}, err
	}
	values, err := amf.Decode0(body)
	if err != nil {
		return Command{}, fmt.Errorf("command: %w", err)
	}
	if len(values) == 0 {
		return Command{}, fmt.Errorf("command: %w", ErrMalformedCommand)
	}
	name, ok := values[0].(string)
	if !ok {
		return Command{}, fmt.Errorf("command name is %T: %w", values[0], ErrMalformedCommand)
	}
	cmd := Command{Name: name}
	if len(values) > 1 {
		// Some encoders send a transaction id that is not a number (or none);
		// treat it as 0 like the notifications they are.
		cmd.TransactionID, _ = values[1].(float64)
	}
	if len(values) > 2 {
		cmd.Object = values[2]
	}
	if len(values) > 3 {
		cmd.Args = values[3:]
	}
	return cmd, nil
}

// AppendCommand encodes a command as an AMF0 payload.
func AppendCommand(dst []byte, c Command) ([]byte, error) {
	values := make([]any, 0, 3+len(c.Args))
	values = append(values, c.Name, c.TransactionID, c.Object)
	values = append(values, c.Args...)
	return amf.Append0(dst, values...)
}
