export const ignore = async () => ({ statusCode: 200 });
