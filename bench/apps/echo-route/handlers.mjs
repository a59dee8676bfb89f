// A plain AWS Lambda handler: the body goes back unchanged through the route response.
export const echo = async (event) => ({ statusCode: 200, body: event.body });
